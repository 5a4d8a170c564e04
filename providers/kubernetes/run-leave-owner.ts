/**
 * Taking the pod out of its controller for good. Relabelling makes the controller release it (it
 * drops its ownerReference), but only a running controller does that, and only for an owner whose
 * selector is a label selector. When the controller reference is still there shortly after, or the
 * selector cannot be read, the reference is removed here (recorded) so garbage collection cannot
 * delete the pod with its owner. A Job is suspended at once after the pod left it: the Job starts a
 * replacement when it loses a pod (a payment Job would run twice), and a suspended Job deletes the
 * pods it still owns — so never before.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RemoteError } from '../../src/core/errors.js';
import type { JsonObject, StepContext } from '../../src/core/types.js';
import { ownerPath, podPath } from './api-paths.js';
import { MERGE_PATCH, messageOf, type KubeClient, type KubernetesObject, type V1Pod } from './client.js';
import { kubeClientFor } from './context.js';
import { getObject, livePod } from './discover.js';
import type { OwnerFacts, PodFacts } from './facts.js';

/** How long a running controller gets to release a relabelled pod before holdfast removes the reference itself. */
export const OWNER_RELEASE_WAIT_MS = 5_000;
const OWNER_POLL_MS = 200;
/** Owner kinds whose controller starts a new run when a pod leaves: suspended right after. */
const SUSPENDABLE = new Set(['Job', 'CronJob']);

/** The controller reference `owner` still has on the live pod, if any. */
export function controllerRef(live: V1Pod, owner: Pick<OwnerFacts, 'uid'>): JsonObject | undefined {
  const ref = (live.metadata?.ownerReferences ?? []).find((r) => r.uid === owner.uid && r.controller);
  return ref ? (JSON.parse(JSON.stringify(ref)) as JsonObject) : undefined;
}

/** The direct controller the pod has to leave, if any (a static pod's Node is not one). */
export function directController(pod: PodFacts): OwnerFacts | undefined {
  const first = pod.owners[0];
  return first && first.controller !== false && first.kind !== 'Node' ? first : undefined;
}

async function mergePatch(client: KubeClient, path: string, body: JsonObject): Promise<number> {
  const res = await client.send('PATCH', path, { body, contentType: MERGE_PATCH });
  if (res.status >= 400 && res.status !== 409)
    throw new RemoteError(`PATCH ${path}: ${res.status} ${messageOf(res) ?? ''}`.trim(), false);
  return res.status;
}

/** Remove one ownerReference; the list is replaced whole, so only over the resourceVersion it was read at. */
async function removeOwnerReference(ctx: StepContext, pod: PodFacts, owner: OwnerFacts, why: string): Promise<boolean> {
  const client = kubeClientFor(ctx);
  for (let attempt = 0; attempt < 3; attempt++) {
    const live = await livePod(client, pod);
    const ref = controllerRef(live, owner);
    if (!ref) return false;
    if (attempt === 0)
      await ctx.recordChange({
        resource: `pod:${pod.namespace}/${pod.name}`,
        attribute: `ownerReference:${owner.uid}`,
        before: ref,
        after: null,
        reversible: true,
      });
    ctx.progress(`removing ${owner.kind} ${owner.name}'s ownerReference from ${pod.namespace}/${pod.name}: ${why}`);
    const rest = (live.metadata?.ownerReferences ?? [])
      .filter((r) => r.uid !== owner.uid)
      .map((r) => JSON.parse(JSON.stringify(r)) as JsonObject);
    const status = await mergePatch(client, podPath(pod.namespace, pod.name), {
      metadata: { resourceVersion: live.metadata?.resourceVersion ?? null, ownerReferences: rest.length ? rest : null },
    });
    if (status < 400) return true;
  }
  throw new RemoteError(`${pod.namespace}/${pod.name} kept changing: its ownerReference could not be removed`, true);
}

/** Suspend a Job or CronJob (recorded; release sets it back). */
async function suspend(ctx: StepContext, pod: PodFacts, owner: OwnerFacts): Promise<string | undefined> {
  const client = kubeClientFor(ctx);
  const path = ownerPath(pod.namespace, owner);
  const live = path ? await getObject<KubernetesObject & { spec?: { suspend?: boolean } }>(client, path) : undefined;
  if (!path || !live) return `${owner.kind} ${owner.name} could not be read, so it was not suspended`;
  if (live.spec?.suspend) return undefined;
  await ctx.recordChange({
    resource: `${owner.kind.toLowerCase()}:${pod.namespace}/${owner.name}`,
    attribute: 'suspend',
    before: false,
    after: true,
    reversible: true,
  });
  await mergePatch(client, path, { spec: { suspend: true } });
  return undefined;
}

/**
 * After relabelling: make sure the pod no longer belongs to its controller, then suspend a Job
 * owner (and its CronJob). Returns what it did and what the responder must know.
 */
export async function leaveController(
  ctx: StepContext,
  pod: PodFacts,
): Promise<{
  outputs: { leftController?: string; removedReference?: boolean; suspended?: string[] };
  limitations: string[];
}> {
  const owner = directController(pod);
  if (!owner) return { outputs: {}, limitations: [] };
  const client = kubeClientFor(ctx);
  const key = `${pod.namespace}/${pod.name}`;
  const readable = pod.controllerSelectorReadable !== false;
  const isJob = owner.kind === 'Job';
  let live = await livePod(client, pod);
  if (readable && !isJob) {
    const deadline = Date.now() + OWNER_RELEASE_WAIT_MS;
    while (controllerRef(live, owner) && Date.now() < deadline) {
      await sleep(OWNER_POLL_MS, undefined, { signal: ctx.signal });
      live = await livePod(client, pod);
    }
  }
  const limitations: string[] = [];
  let removedReference = false;
  if (controllerRef(live, owner)) {
    const why = !readable
      ? `its selector cannot be read as a label selector${owner.unreadable ? ` (${owner.unreadable})` : ''}`
      : isJob
        ? 'the Job is suspended next, and a suspended Job deletes the pods it owns'
        : `no controller released it within ${OWNER_RELEASE_WAIT_MS / 1000} s of relabelling`;
    removedReference = await removeOwnerReference(ctx, pod, owner, why);
    if (removedReference)
      limitations.push(
        `${owner.kind} ${owner.name}'s ownerReference was removed from ${key} (${why}) so that garbage collection cannot delete the pod with its owner; ${owner.kind} ${owner.name}'s controller may still adopt the pod again if its selector matches it`,
      );
  }
  const suspended: string[] = [];
  if (isJob) {
    // Never while the pod still belongs to the Job: a suspended Job deletes its active pods.
    if (controllerRef(await livePod(client, pod), owner))
      throw new RemoteError(`${key} still belongs to Job ${owner.name}: not suspending it`, true);
    for (const o of pod.owners.filter((x) => SUSPENDABLE.has(x.kind))) {
      const problem = await suspend(ctx, pod, o);
      if (problem) limitations.push(problem);
      else suspended.push(`${o.kind} ${o.name}`);
    }
  }
  return { outputs: { leftController: `${owner.kind} ${owner.name}`, removedReference, suspended }, limitations };
}
