/** What the IAM provider recognises among other providers' findings: the roles pods run as (IRSA). */
import type { RoleClaim, RoleFinding } from '../../src/core/claims.js';

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
