/**
 * Undo one recorded IAM containment exactly: detach holdfast's revocation policy (it stays, tagged,
 * as a record) or reactivate a key holdfast deactivated. A revocation someone changed since is
 * left as it is and named. Nothing is deleted.
 */
import { canonicalJson } from '../../src/evidence/canonical-json.js';
import { isNotFound } from '../../src/aws/errors.js';
import { InternalError } from '../../src/core/errors.js';
import { HOLDFAST_IAM_POLICY_PATH, HOLDFAST_REVOCATION_POLICY_PREFIX } from '../../src/core/guard.js';
import type { ChangeRecord, ReleaseContext } from '../../src/core/types.js';
import { accessKeys, attachedPolicyArns, detachRevocationPolicy, findPolicy, setAccessKeyStatus } from './client.js';
import { iamClientsFor } from './context.js';
import { nameOfArn } from './discover.js';
import { revocationTimeOf } from './revocation-policy.js';

/** Undo one recorded IAM change. */
export async function releaseIam(
  change: ChangeRecord,
  ctx: ReleaseContext,
): Promise<{ restored: boolean; note?: string; kept?: boolean }> {
  const c = iamClientsFor(ctx);
  const kept = await credentialsKept(change, ctx);
  if (kept) return { restored: false, ...kept };
  switch (change.attribute) {
    case 'revocationPolicy': {
      const roleName = nameOfArn(change.resource);
      const { policyArn, document } = change.after as { policyArn: string; document: unknown };
      const attached = await attachedPolicyArns(c, roleName);
      if (!attached) return { restored: false, note: `role ${roleName} no longer exists` };
      // Earlier containment episodes' policies kept in force while the service was restored go with the last.
      const earlier = await detachEarlierEpisodes(c, roleName, ctx.incident, policyArn, attached);
      if (!attached.includes(policyArn))
        return {
          restored: true,
          note: `${nameOfArn(policyArn)} was already detached from ${roleName}; nothing to undo${earlier}`,
        };
      const now = await findPolicy(c, policyArn);
      if (!now || canonicalJson(now.document) !== canonicalJson(document))
        return {
          restored: false,
          note: `role ${roleName}: revocation policy ${policyArn} was changed since capture (default version ${now?.defaultVersionId ?? 'gone'}, not the document holdfast attached); left attached — detach it by hand if that is intended`,
        };
      await detachRevocationPolicy(c, roleName, policyArn);
      return {
        restored: true,
        note: `role ${roleName}: ${nameOfArn(policyArn)} detached; the policy stays, tagged, as a record${earlier}`,
      };
    }
    case 'accessKeyStatus': {
      const [, userName, , keyId] = change.resource.split('/') as [string, string, string, string];
      const keys = await accessKeys(c, userName).catch((error: Error) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      const key = keys?.find((k) => k.id === keyId);
      if (!key) return { restored: false, note: `access key ${keyId} of user ${userName} no longer exists` };
      if (key.status === 'Active')
        return { restored: true, note: `access key ${keyId} of ${userName} was already active` };
      await setAccessKeyStatus(c, userName, keyId, 'Active');
      return { restored: true, note: `access key ${keyId} of ${userName} active again` };
    }
    default:
      throw new InternalError(`iam cannot release ${change.attribute} of ${change.resource}`);
  }
}

/** For `release --dry-run`: the credential containment this release would keep in force, and why (reads no cloud state). */
export async function checkIamRelease(
  changes: ChangeRecord[],
  ctx: ReleaseContext,
): Promise<{ changeId: string; note: string }[]> {
  const left: { changeId: string; note: string }[] = [];
  for (const change of changes) {
    const kept = await credentialsKept(change, ctx);
    if (kept) left.push({ changeId: change.id, note: kept.note });
  }
  return left;
}

/**
 * Detach this incident's revocation policies of earlier containment episodes still attached to the
 * role (kept in force by a release that restored service only); each must be ours by tag and
 * unchanged in shape. Returns what it did, for the note.
 */
async function detachEarlierEpisodes(
  c: ReturnType<typeof iamClientsFor>,
  roleName: string,
  incident: string,
  latest: string,
  attached: readonly string[],
): Promise<string> {
  const ours = (arn: string) => {
    const name = nameOfArn(arn);
    return [
      `${HOLDFAST_REVOCATION_POLICY_PREFIX}${incident}-`,
      `${HOLDFAST_REVOCATION_POLICY_PREFIX}${incident}.`,
    ].some((p) => name.startsWith(p));
  };
  const detached: string[] = [];
  for (const arn of attached.filter((a) => a !== latest && a.includes(HOLDFAST_IAM_POLICY_PATH) && ours(a))) {
    const policy = await findPolicy(c, arn);
    if (policy?.tags['holdfast:incident'] !== incident || !revocationTimeOf(policy.document)) continue;
    await detachRevocationPolicy(c, roleName, arn);
    detached.push(nameOfArn(arn));
  }
  return detached.length ? `; earlier episodes' ${detached.join(', ')} detached too` : '';
}

/** The principal a credential change contains, in words, and which changes of other incidents hold it too. */
function principalOf(change: ChangeRecord): { name: string; holds: (other: ChangeRecord) => boolean } {
  if (change.attribute === 'accessKeyStatus') {
    const [, userName, , keyId] = change.resource.split('/') as [string, string, string, string];
    return {
      name: `user ${userName}'s access key ${keyId}`,
      holds: (o) => o.provider === 'iam' && o.resource.startsWith(`user/${userName}/`),
    };
  }
  return {
    name: `role ${nameOfArn(change.resource)}'s sessions`,
    holds: (o) => o.provider === 'iam' && o.resource === change.resource,
  };
}

/**
 * Why this credential containment stays in force, or undefined when release may lift it: only with
 * `restoreCredentials`, and never while another open incident holds the same principal (stolen
 * credentials stay stolen when the service comes back). Kept by default, the incident still holds
 * the principal (`kept`); refused on request, it no longer does, so the other incident's own
 * release can lift its part, and this one's next release lifts the rest.
 */
async function credentialsKept(
  change: ChangeRecord,
  ctx: ReleaseContext,
): Promise<{ note: string; kept?: true } | undefined> {
  const { name, holds } = principalOf(change);
  if (!ctx.restoreCredentials)
    return {
      note: `${name}: credential containment stays in force (release restores service, not credentials; release --restore-credentials lifts it)`,
      kept: true,
    };
  const others = await ctx.heldByOtherIncidents(holds);
  if (others.length)
    return {
      note: `${name}: refused to lift credential containment: open incident ${others.join(', ')} holds the same principal; it stays in force (release this incident with --restore-credentials again once that one has)`,
    };
  return undefined;
}
