/**
 * Pure: the holdfast-managed policy that revokes a role's older sessions. It denies everything to
 * credentials issued before a time (aws:TokenIssueTime), as the IAM console's "Revoke active
 * sessions" does; sessions issued after it keep working, so the workload can restart cleanly.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html
 */
import { createHash } from 'node:crypto';
import { HOLDFAST_IAM_POLICY_PATH, HOLDFAST_REVOCATION_POLICY_PREFIX } from '../../src/core/guard.js';
import type { JsonObject } from '../../src/core/types.js';

/** Managed policy names allow 128 characters. */
export const MAX_IAM_POLICY_NAME_LENGTH = 128;
const HASH_LENGTH = 8;
export const REVOCATION_STATEMENT_SID = 'HoldfastRevokeOlderSessions';

/**
 * `holdfast-revoke-<incident>-<role>`; shortened with a hash of the full name when too long. A
 * containment episode after a release (2, 3, …) gets its own policy, `holdfast-revoke-<incident>.<n>-<role>`
 * (an incident id has no dot), so each episode keeps its own cutoff and the earlier ones stay as a record.
 */
export function revocationPolicyName(incident: string, roleName: string, episode = 1): string {
  const full = `${HOLDFAST_REVOCATION_POLICY_PREFIX}${incident}${episode > 1 ? `.${episode}` : ''}-${roleName}`;
  if (full.length <= MAX_IAM_POLICY_NAME_LENGTH) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_LENGTH);
  return `${full.slice(0, MAX_IAM_POLICY_NAME_LENGTH - HASH_LENGTH - 1)}-${hash}`;
}

/** The policy's ARN in the role's account and partition (found again by name on a re-run). */
export function revocationPolicyArn(roleArn: string, policyName: string): string {
  const [, partition, , , account] = roleArn.split(':');
  return `arn:${partition}:iam::${account}:policy${HOLDFAST_IAM_POLICY_PATH}${policyName}`;
}

/** The deny-older-sessions document for `notBefore` (ISO 8601, UTC, whole seconds). */
export function revocationDocument(notBefore: string): JsonObject {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: REVOCATION_STATEMENT_SID,
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': notBefore } },
      },
    ],
  };
}

/** The `notBefore` of a revocation document, or undefined when it is not one of ours in shape. */
export function revocationTimeOf(document: unknown): string | undefined {
  const statements = (document as { Statement?: unknown } | undefined)?.Statement;
  const list = Array.isArray(statements) ? statements : [statements];
  if (list.length !== 1) return undefined;
  const s = list[0] as JsonObject | undefined;
  const time = ((s?.Condition as JsonObject | undefined)?.DateLessThan as JsonObject | undefined)?.[
    'aws:TokenIssueTime'
  ];
  return s?.Effect === 'Deny' && s.Action === '*' && s.Resource === '*' && typeof time === 'string' ? time : undefined;
}

/**
 * A moment as IAM condition time: ISO 8601 UTC in whole seconds, rounded up, so a token issued
 * earlier in the same second is still older than the revocation.
 */
export function conditionTime(date: Date): string {
  return new Date(Math.ceil(date.getTime() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
