/**
 * The do-not-delete guard. Every AWS SDK client holdfast builds gets `guardAwsClient` (src/aws/guard-client.ts,
 * which asks `assertAwsCommandAllowed`), and every
 * Kubernetes request passes `assertKubeRequestAllowed`; both refuse destructive calls before they
 * are sent, whatever the code above them asks for.
 */
import { InternalError } from './errors.js';

/** Command-name prefixes that destroy or stop something. */
const DESTRUCTIVE_PREFIXES = [
  'Delete',
  'Terminate',
  'Stop',
  'Reboot',
  'Purge',
  'Reset',
  'Restore',
  'Failover',
  'Promote',
  // IAM: DeleteAccessKey, RemoveRoleFromInstanceProfile, DetachUserPolicy… (and EC2's Detach* too).
  'Remove',
  'Detach',
];

/** Whole command names that destroy or detach evidence without a destructive prefix. */
const DESTRUCTIVE_COMMANDS = new Set([
  'DeregisterImage',
  'DetachVolume',
  'DetachNetworkInterface',
  'ReleaseAddress',
  'DisassociateAddress',
  'DisableSnapshotBlockPublicAccess',
  'UnlockSnapshot',
  'ModifySnapshotTier',
  'DetachInstances',
  'SetInstanceHealth',
  'PutBucketLifecycleConfiguration',
  'PutBucketVersioning',
  'PutObjectLockConfiguration',
  'ScheduleKeyDeletion',
  'DisableKey',
  'AbortMultipartUpload',
  // IAM writes that overwrite a principal's policies, trust or credentials in place.
  'PutRolePolicy',
  'PutUserPolicy',
  'PutGroupPolicy',
  'PutRolePermissionsBoundary',
  'PutUserPermissionsBoundary',
  'UpdateAssumeRolePolicy',
  'CreatePolicyVersion',
  'SetDefaultPolicyVersion',
  'UpdateLoginProfile',
  'DeactivateMFADevice',
]);

/** Where holdfast keeps the IAM policies it creates (session revocation); nothing else lives there. */
export const HOLDFAST_IAM_POLICY_PATH = '/holdfast/';
/** Name prefix of holdfast's session-revocation policies. */
export const HOLDFAST_REVOCATION_POLICY_PREFIX = 'holdfast-revoke-';
const HOLDFAST_REVOCATION_POLICY_ARN =
  /^arn:aws[a-z-]*:iam::\d{12}:policy\/holdfast\/holdfast-revoke-[\w+=,.@-]{1,112}$/;

/** True for the ARN of a session-revocation policy holdfast created (by path and name). */
export function isHoldfastRevocationPolicyArn(arn: unknown): boolean {
  return typeof arn === 'string' && HOLDFAST_REVOCATION_POLICY_ARN.test(arn);
}

/**
 * How a client may be used. `release` clients are built only by a provider's release code; on them,
 * and only for holdfast's own revocation policy, DetachRolePolicy is let through (undoing holdfast's
 * own containment). Every other Detach* stays refused on every client.
 */
export interface GuardMode {
  release?: boolean;
  /**
   * The watch daemon's SQS client: DeleteMessage (and nothing else that deletes) is let through, so
   * a finding's message leaves its queue once the incident's seal is durable. A message is a
   * delivery of a finding, not evidence: the finding itself is kept in the incident's record.
   */
  queueConsumer?: boolean;
}

/** Parameters that turn a harmless call into one that can destroy evidence. */
const DESTRUCTIVE_PARAMS: Record<string, (input: Record<string, unknown>) => string | undefined> = {
  // Overwriting an object would replace evidence at its key: every write must be conditional.
  PutObject: (i) => (i.IfNoneMatch === '*' ? undefined : 'PutObject without IfNoneMatch "*" could overwrite'),
  CreateMultipartUpload: () => undefined,
  CompleteMultipartUpload: (i) =>
    i.IfNoneMatch === '*' ? undefined : 'CompleteMultipartUpload without IfNoneMatch "*" could overwrite',
  PutObjectRetention: (i) => (i.BypassGovernanceRetention ? 'BypassGovernanceRetention shortens a lock' : undefined),
  ModifyDBInstance: (i) => (i.DeletionProtection === false ? 'turning deletion protection off' : undefined),
  ModifyDBCluster: (i) => (i.DeletionProtection === false ? 'turning deletion protection off' : undefined),
};

/** Refused by the guard; carries the refused command name. */
export class GuardRefusal extends InternalError {
  constructor(
    readonly command: string,
    reason: string,
  ) {
    super(`holdfast refused to send ${command}: ${reason} (the do-not-delete rule)`);
  }
}

/** Throws GuardRefusal when an AWS command would delete, stop, detach or overwrite. */
export function assertAwsCommandAllowed(
  commandName: string,
  input: Record<string, unknown> = {},
  mode: GuardMode = {},
): void {
  const name = commandName.replace(/Command$/, '');
  if (name === 'DetachRolePolicy' && mode.release && isHoldfastRevocationPolicyArn(input.PolicyArn)) return;
  if (name === 'DeleteMessage' && mode.queueConsumer) return;
  if (DESTRUCTIVE_PREFIXES.some((p) => name.startsWith(p)) || DESTRUCTIVE_COMMANDS.has(name)) {
    throw new GuardRefusal(name, 'destructive API');
  }
  const reason = DESTRUCTIVE_PARAMS[name]?.(input);
  if (reason) throw new GuardRefusal(name, reason);
}

/** Throws GuardRefusal for a Kubernetes request that deletes or evicts. */
export function assertKubeRequestAllowed(method: string, path: string): void {
  const verb = method.toUpperCase();
  if (verb === 'DELETE') throw new GuardRefusal(`DELETE ${path}`, 'destructive API');
  if (verb === 'POST' && /\/(eviction|binding)$/.test(path)) {
    throw new GuardRefusal(`POST ${path}`, 'eviction would kill the pod');
  }
}
