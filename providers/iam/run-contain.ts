/**
 * Contain credentials without deleting anything: revoke a role's existing sessions with holdfast's
 * own deny-older-tokens policy (created once per role and incident, found again by name and tag),
 * and set a user's active access keys Inactive. Every change is journaled before it is made.
 */
import { RemoteError } from '../../src/core/errors.js';
import { HOLDFAST_IAM_POLICY_PATH } from '../../src/core/guard.js';
import {
  accessKeys,
  attachedPolicyArns,
  attachRolePolicy,
  createPolicy,
  findPolicy,
  setAccessKeyStatus,
} from './client.js';
import { iamClientsFor } from './context.js';
import {
  conditionTime,
  revocationDocument,
  revocationPolicyArn,
  revocationPolicyName,
  revocationTimeOf,
} from './revocation-policy.js';
import type { IamOutcome, IamStepContext } from './steps.js';

/** Tag values that mark a policy as this incident's revocation (a same-named policy without them is refused). */
export const REVOCATION_TAG = 'holdfast:purpose';
export const REVOCATION_TAG_VALUE = 'revoke-sessions';

/** Attach (creating once) the policy that denies the role's sessions issued before the revocation time. */
export async function runRevokeSessions(
  ctx: IamStepContext<'revoke-sessions'>,
): Promise<IamOutcome<'revoke-sessions'>> {
  const { roleName, roleArn, blastRadiusText } = ctx.step.inputs;
  const episode = containmentEpisode(ctx);
  // Each containment episode has its own policy: a re-containment after release denies sessions issued before it.
  const policyName = episode > 1 ? revocationPolicyName(ctx.incident, roleName, episode) : ctx.step.inputs.policyName;
  const policyArn = episode > 1 ? revocationPolicyArn(roleArn, policyName) : ctx.step.inputs.policyArn;
  const c = iamClientsFor(ctx);
  let policy = await findPolicy(c, policyArn);
  if (!policy) {
    // A run that crashed after journaling its intent keeps the time it chose: one revocation time per role, incident and episode.
    const earlier = ctx.previous.intents.find((i) => i.create === 'iam-policy' && i.policyArn === policyArn);
    const notBefore = typeof earlier?.notBefore === 'string' ? earlier.notBefore : conditionTime(new Date());
    await ctx.recordIntent({ create: 'iam-policy', policyArn, notBefore, episode });
    await createPolicy(c, {
      name: policyName,
      path: HOLDFAST_IAM_POLICY_PATH,
      document: revocationDocument(notBefore),
      description: `holdfast ${ctx.incident}: deny ${roleName}'s sessions issued before ${notBefore}`,
      tags: {
        'holdfast:incident': ctx.incident,
        [REVOCATION_TAG]: REVOCATION_TAG_VALUE,
        'holdfast:do-not-delete': 'true',
      },
    });
    policy = await findPolicy(c, policyArn);
    if (!policy) throw new RemoteError(`policy ${policyArn} was created but cannot be found`, true);
  }
  if (policy.tags['holdfast:incident'] !== ctx.incident || policy.tags[REVOCATION_TAG] !== REVOCATION_TAG_VALUE)
    throw new RemoteError(
      `policy ${policyArn} exists but is not tagged holdfast:incident=${ctx.incident}, ${REVOCATION_TAG}=${REVOCATION_TAG_VALUE}; refusing to attach it`,
      false,
    );
  const notBefore = revocationTimeOf(policy.document);
  if (!notBefore)
    throw new RemoteError(
      `policy ${policyArn} no longer has holdfast's deny-older-sessions document (changed by hand?); refusing to attach it`,
      false,
    );
  const attached = await attachedPolicyArns(c, roleName);
  if (!attached) throw new RemoteError(`role ${roleName} no longer exists`, false);
  const contained = [
    `role ${roleName}: sessions issued before ${notBefore} revoked (${policyName}); ${blastRadiusText}`,
  ];
  const outputs = { policyArn, notBefore, contained };
  if (attached.includes(policyArn)) return { outputs, note: `${policyName} was already attached to ${roleName}` };
  await ctx.recordChange({
    resource: roleArn,
    attribute: 'revocationPolicy',
    before: null,
    after: { policyArn, defaultVersionId: policy.defaultVersionId, notBefore, document: policy.document, episode },
    reversible: true,
  });
  await attachRolePolicy(c, roleName, policyArn);
  return { outputs };
}

/**
 * Which containment episode this run is: 1 at first; one more than the last recorded revocation's
 * once a release restored it (capture after release contains again, from now); an episode whose
 * intent was journaled before a crash keeps its number.
 */
function containmentEpisode(ctx: IamStepContext<'revoke-sessions'>): number {
  const episodeOf = (value: unknown) => {
    const n = (value as { episode?: unknown } | null | undefined)?.episode;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 1;
  };
  const last = ctx.previous.changes.filter((ch) => ch.attribute === 'revocationPolicy').at(-1);
  const fromChange = last ? episodeOf(last.after) + (ctx.previous.released?.includes(last.id) ? 1 : 0) : 1;
  const fromIntents = Math.max(
    1,
    ...ctx.previous.intents.filter((i) => i.create === 'iam-policy').map((i) => episodeOf(i)),
  );
  return Math.max(fromChange, fromIntents);
}

/** The journal resource of one access key (user names and key ids have no slash). */
export const accessKeyResource = (userName: string, keyId: string) => `user/${userName}/access-key/${keyId}`;

/** Set every access key that is Active now to Inactive; keys already inactive are left and not recorded. */
export async function runDeactivateKeys(
  ctx: IamStepContext<'deactivate-keys'>,
): Promise<IamOutcome<'deactivate-keys'>> {
  const { userName } = ctx.step.inputs;
  const c = iamClientsFor(ctx);
  const now: string[] = [];
  for (const key of await accessKeys(c, userName)) {
    if (key.status !== 'Active') continue;
    now.push(accessKeyResource(userName, key.id));
    await ctx.recordChange({
      resource: accessKeyResource(userName, key.id),
      attribute: 'accessKeyStatus',
      before: 'Active',
      after: 'Inactive',
      reversible: true,
    });
    await setAccessKeyStatus(c, userName, key.id, 'Inactive');
  }
  // Keys this step set Inactive in any run, this one or an interrupted earlier one.
  const previous = ctx.previous.changes.filter((ch) => ch.attribute === 'accessKeyStatus').map((ch) => ch.resource);
  const done = [...new Set([...previous, ...now])].map((r) => r.split('/').pop()!).sort();
  return {
    outputs: {
      deactivated: done,
      contained: done.map((id) => `user ${userName}: access key ${id} set Inactive (not deleted)`),
    },
  };
}
