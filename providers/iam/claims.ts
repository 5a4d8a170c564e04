/** What the IAM provider recognises among other providers' findings: the roles pods run as (IRSA). */
import type { MachineIdentityClaim, RoleClaim, RoleFinding } from '../../src/core/claims.js';

/** The service-account annotation that gives its pods an IAM role on EKS (IRSA). */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/**
 * With --revoke-pod-roles, the finder reads each targeted pod's service account and every account
 * naming a role (who else loses their sessions); the roles of targeted pods become iam targets.
 */
export const iamRoleClaim: RoleClaim = {
  annotation: IRSA_ROLE_ANNOTATION,
  wanted: (params) => params.revokePodRoles === true,
  targets(found: RoleFinding[]) {
    const podRoles = found.flatMap((f) => (f.pod ? [`${f.pod}=${f.role}`] : []));
    if (!podRoles.length) return undefined;
    const podRoleServiceAccounts = found.flatMap((f) => (f.pod ? [] : [`${f.serviceAccount}=${f.role}`])).sort();
    return { podRoles, podRoleServiceAccounts };
  },
};

/** An instance profile's ARN (what EC2 finds attached to an instance). */
const INSTANCE_PROFILE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:instance-profile\//;

/** The profiles of targeted instances (found by ec2) become iam targets: the role is recorded, sessions maybe revoked. */
export const iamMachineIdentityClaim: MachineIdentityClaim = {
  recognises: (identity) => INSTANCE_PROFILE_ARN.test(identity),
  targets: (found) => ({ instanceProfiles: found.map((f) => `${f.machine}=${f.identity}`) }),
};
