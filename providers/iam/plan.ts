/** Pure: IAM facts → steps. Evidence of each principal first (collect), then its containment. */
import { BadInputError } from '../../src/core/errors.js';
import type { Case, StepDraft } from '../../src/core/types.js';
import type { BlastRadius, IamFacts, RoleFacts } from './facts.js';
import { revocationPolicyArn, revocationPolicyName } from './revocation-policy.js';
import type { IamStep } from './steps.js';

/** What credential containment cannot do, for the manifest. */
export const ROLE_REVOCATION_LIMITATIONS = [
  "revoking a role's sessions denies every request signed with credentials issued before the revocation time, for every holder of the role (the blast radius is in the plan); credentials issued afterwards work, so restart the workload to give it fresh ones",
  'IAM is eventually consistent: a revocation or a deactivated key takes effect within seconds, not at once',
];
export const ACCESS_KEY_LIMITATION =
  'an access key set Inactive stops signing new requests, but temporary credentials already obtained with it (GetSessionToken, AssumeRole) stay valid until they expire';

/** The blast radius of revoking a role's sessions, in words. */
export function blastRadius(role: Pick<RoleFacts, 'otherInstances' | 'instanceProfiles' | 'serviceAccounts'>): string {
  const parts: string[] = [];
  if (role.otherInstances.length)
    parts.push(
      `instances ${role.otherInstances.map((i) => i.instanceId).join(', ')} (same instance profile${role.instanceProfiles.length > 1 ? 's' : ''})`,
    );
  if (role.serviceAccounts.length) parts.push(`pods of service accounts ${role.serviceAccounts.join(', ')}`);
  return parts.length ? `also cuts ${parts.join(' and ')}` : 'no other instance or service account holds this role';
}

function why(role: RoleFacts): string {
  return role.reasons
    .map((r) =>
      r.kind === 'named' ? '--iam-role' : r.kind === 'instance-profile' ? `profile of ${r.via}` : `IRSA of ${r.via}`,
    )
    .join(', ');
}

/** Plan every role and user. */
export function planIam(facts: IamFacts, kase: Case): { steps: StepDraft<IamStep>[]; limitations: string[] } {
  const p = facts.params;
  if (
    Object.keys(kase.targets).length === 1 &&
    !facts.roles.length &&
    !facts.users.length &&
    !p.roles.length &&
    !p.users.length &&
    !p.instanceProfiles.length &&
    !p.podRoles.length
  )
    throw new BadInputError({
      field: 'targets.iam',
      message:
        'targets.iam.revokeRoleSessions and targets.iam.revokePodRoles apply to the roles of targets.ec2.instances or targets.kubernetes.pods targets; give one of those, or targets.iam.roles / targets.iam.users',
    });
  const steps: StepDraft<IamStep>[] = [];
  const limitations = [...facts.notes];
  for (const role of facts.roles) {
    const target = `iam:role/${role.name}`;
    const policyName = revocationPolicyName(kase.incident, role.name);
    const radius = blastRadius(role);
    const blast: BlastRadius = {
      instances: role.otherInstances.map((i) => i.instanceId),
      instanceProfiles: role.instanceProfiles,
      serviceAccounts: role.serviceAccounts,
    };
    steps.push({
      id: `record/role/${role.name}`,
      action: 'record-role',
      phase: 'collect',
      target,
      title: `record role ${role.name} (${why(role)}): trust policy, policies with documents, instance profiles`,
      inputs: { roleName: role.name, roleArn: role.arn, reasons: role.reasons, blastRadius: blast },
    });
    if (role.revoke)
      steps.push({
        id: `revoke-sessions/role/${role.name}`,
        action: 'revoke-sessions',
        phase: 'contain',
        target,
        title: `revoke role ${role.name}'s existing sessions (attach ${policyName}: deny all to tokens issued before now); ${radius}`,
        inputs: {
          roleName: role.name,
          roleArn: role.arn,
          policyName,
          policyArn: revocationPolicyArn(role.arn, policyName),
          blastRadius: blast,
          blastRadiusText: radius,
        },
      });
  }
  for (const user of facts.users) {
    const target = `iam:user/${user.name}`;
    steps.push(
      {
        id: `record/user/${user.name}`,
        action: 'record-user',
        phase: 'collect',
        target,
        title: `record user ${user.name}: policies with documents, groups, access keys with last use, MFA devices`,
        inputs: { userName: user.name, userArn: user.arn },
      },
      {
        id: `deactivate-keys/user/${user.name}`,
        action: 'deactivate-keys',
        phase: 'contain',
        target,
        title: `set user ${user.name}'s active access keys to Inactive (${user.activeKeys.join(', ') || 'none active now'}${user.inactiveKeys.length ? `; ${user.inactiveKeys.join(', ')} already inactive, left` : ''}); nothing is deleted`,
        inputs: { userName: user.name, userArn: user.arn, activeKeys: user.activeKeys },
      },
    );
  }
  if (facts.roles.some((r) => r.revoke)) limitations.push(...ROLE_REVOCATION_LIMITATIONS);
  if (facts.users.length) limitations.push(ACCESS_KEY_LIMITATION);
  if (p.revokeRoleSessions && !facts.roles.some((r) => r.reasons.some((x) => x.kind === 'instance-profile')))
    limitations.push('--revoke-role-sessions: no targeted instance has an instance profile with a role');
  if (p.revokePodRoles && !facts.roles.some((r) => r.reasons.some((x) => x.kind === 'pod')))
    limitations.push(
      "--revoke-pod-roles: no targeted pod's service account has an IAM role (eks.amazonaws.com/role-arn); EKS Pod Identity associations are not read",
    );
  return { steps, limitations };
}
