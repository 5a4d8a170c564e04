/**
 * Undo recorded containment; the NetworkPolicy and PDB stay for the responders to remove. A pod's
 * changes are judged and restored together, in one patch (the quarantine labels last), after
 * predicting what each controller will do with it: a controller that would delete the evidence pod
 * does not get it back unless the responder asks (--readopt, after a pod-deletion cost). Node
 * cordons are shared between incidents: the last holder uncordons, and only a cordon holdfast made.
 */
import { InternalError, RemoteError, describeError } from '../../src/core/errors.js';
import { canonicalJson } from '../../src/evidence/canonical-json.js';
import type { ChangeRecord, JsonObject, ReleaseContext, ReleaseResult } from '../../src/core/types.js';
import { nodePath, podPath, podsPath, servicesPath } from './api-paths.js';
import { MERGE_PATCH, messageOf, type KubeClient, type KubernetesObject, type V1Node, type V1Pod } from './client.js';
import { kubeClientFor } from './context.js';
import { getObject, listObjects, ownerPathOf } from './discover.js';
import {
  CORDON_LABEL,
  DELETION_COST_ANNOTATION,
  MAX_DELETION_COST,
  NODE_FAILURE_TAINTS,
  QUARANTINE_LABEL,
  QUARANTINE_POD_LABEL,
  type LabelSelector,
} from './facts.js';
import { endangers, keysToKeepOut, predictReadoption, type ControllerView, type Prediction } from './readoption.js';
import { cordonHolders } from './run-contain.js';
import { selects } from './selectors.js';

/** What DefaultTolerationSeconds gives the node-failure tolerations; a toleration holdfast added cannot be removed, only limited again. */
const DEFAULT_TOLERATION_SECONDS = 300;
/** Controllers listed to predict adoption (namespaced, label-selector based). */
const CONTROLLER_LISTS: Record<string, string> = {
  ReplicaSet: 'apps/v1/namespaces/NS/replicasets',
  StatefulSet: 'apps/v1/namespaces/NS/statefulsets',
  DaemonSet: 'apps/v1/namespaces/NS/daemonsets',
  Job: 'batch/v1/namespaces/NS/jobs',
};
/** A label-selector controller as release reads it (ReplicaSet, StatefulSet, DaemonSet, Job). */
type ControllerObject = KubernetesObject & {
  spec?: { selector?: LabelSelector; replicas?: number; suspend?: boolean };
  status?: { updateRevision?: string };
};
/** Equal as JSON values: the journal keeps values canonical (keys sorted), the API server in its own field order. */
const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);
const ok = (change: ChangeRecord, restored: boolean, note?: string): ReleaseResult => ({
  changeId: change.id,
  restored,
  ...(note ? { note } : {}),
});

function refOf(resource: string): { kind: string; ns: string; name: string } {
  const kind = resource.slice(0, resource.indexOf(':'));
  const ref = resource.slice(resource.indexOf(':') + 1);
  const [ns, name] = ref.includes('/') ? (ref.split('/') as [string, string]) : ['', ref];
  return { kind, ns, name };
}

async function patch(client: KubeClient, path: string, body: JsonObject): Promise<number> {
  const res = await client.send('PATCH', path, { body, contentType: MERGE_PATCH });
  if (res.status >= 400 && res.status !== 404 && res.status !== 409)
    throw new RemoteError(`release PATCH ${path}: ${res.status} ${messageOf(res) ?? ''}`.trim(), false);
  return res.status;
}

/** Every label-selector controller in the namespace, with the active pods it holds besides the evidence pod. */
async function controllersOf(client: KubeClient, ns: string, podUid: string): Promise<ControllerView[]> {
  const pods = (await listObjects<V1Pod>(client, podsPath(ns))).filter(
    (p) =>
      p.metadata?.uid !== podUid &&
      !p.metadata?.deletionTimestamp &&
      p.status?.phase !== 'Succeeded' &&
      p.status?.phase !== 'Failed',
  );
  const out: ControllerView[] = [];
  for (const [kind, list] of Object.entries(CONTROLLER_LISTS)) {
    for (const c of await listObjects<ControllerObject>(client, `/apis/${list.replace('NS', ns)}`)) {
      const selector = c.spec?.selector ?? null;
      const held = pods.filter((p) => {
        const owner = (p.metadata?.ownerReferences ?? []).find((r) => r.controller);
        // Its own pods, and orphans it would adopt along with the evidence pod.
        return owner ? owner.uid === c.metadata?.uid : selects(selector, p.metadata?.labels ?? {});
      });
      out.push({
        kind,
        name: c.metadata?.name ?? '',
        uid: c.metadata?.uid ?? '',
        selector,
        ...(typeof c.spec?.replicas === 'number' ? { replicas: c.spec.replicas } : {}),
        activePods: held.length,
        deleting: Boolean(c.metadata?.deletionTimestamp),
        ...(c.status?.updateRevision ? { updateRevision: c.status.updateRevision } : {}),
      });
    }
  }
  return out;
}

/** Label keys any Service in the namespace selects on (the pod may go back to its Services without its controller). */
async function serviceKeys(client: KubeClient, ns: string): Promise<Set<string>> {
  const services = await listObjects<KubernetesObject & { spec?: { selector?: Record<string, string> } }>(
    client,
    servicesPath(ns),
  );
  return new Set(services.flatMap((s) => Object.keys(s.spec?.selector ?? {})));
}

/** Tolerations to put back: recorded time limits restored; ones holdfast added cannot be removed, so they get the default limit. */
function restoredTolerations(before: JsonObject[], current: JsonObject[]): JsonObject[] {
  const key = (t: JsonObject) => JSON.stringify([t.key, t.operator, t.value, t.effect]);
  const recorded = new Map(before.map((t) => [key(t), t]));
  return current.map((t) => {
    const was = recorded.get(key(t));
    if (was) return was;
    const nodeFailure =
      t.effect === 'NoExecute' && NODE_FAILURE_TAINTS.includes(t.key as (typeof NODE_FAILURE_TAINTS)[number]);
    return nodeFailure ? { ...t, tolerationSeconds: DEFAULT_TOLERATION_SECONDS } : t;
  });
}

/** What --readopt would do about a controller that endangers the pod. */
const readoptHint = (p: Prediction) =>
  p.verdict === 'deletes'
    ? 'not even --readopt gives it back: no deletion cost saves a pod its controller must delete'
    : `release --readopt gives it back after setting ${DELETION_COST_ANNOTATION} to ${MAX_DELETION_COST}`;

interface PodPlan {
  results: ReleaseResult[];
  predictions: string[];
  /** The one patch (undefined: nothing to send), and whether a deletion cost goes first. */
  body?: JsonObject;
  deletionCostFirst: boolean;
  path: string;
}

/** Judge a pod's changes against the live pod and the controllers around it: what one patch restores, what is left out and why. */
async function planPodRelease(client: KubeClient, changes: ChangeRecord[], ctx: ReleaseContext): Promise<PodPlan> {
  const { ns, name } = refOf(changes[0]!.resource);
  const key = `${ns}/${name}`;
  const path = podPath(ns, name);
  const plan: PodPlan = { results: [], predictions: [], deletionCostFirst: false, path };
  const live = await getObject<V1Pod>(client, path);
  const uid = changes.find((c) => c.attribute === `label:${QUARANTINE_POD_LABEL}`)?.after;
  if (!live?.metadata || (typeof uid === 'string' && live.metadata.uid !== uid)) {
    const note = live ? `${key} is a different pod now (uid ${live.metadata?.uid})` : `pod:${key} no longer exists`;
    plan.results = changes.map((c) => ok(c, false, note));
    plan.predictions.push(`pod ${key}: ${note}; nothing to restore`);
    return plan;
  }
  const meta = live.metadata;
  const labels: Record<string, string> = { ...(meta.labels ?? {}) };
  const annotations: Record<string, string | null> = {};
  const labelPatch: Record<string, string | null> = {};
  const restoreRefs: { change: ChangeRecord; ref: JsonObject }[] = [];
  let tolerations: JsonObject[] | undefined;
  for (const c of changes) {
    const what = `${c.resource} ${c.attribute}`;
    const [field, k] = [
      c.attribute.slice(0, c.attribute.indexOf(':')),
      c.attribute.slice(c.attribute.indexOf(':') + 1),
    ];
    let now: unknown;
    if (field === 'label') now = meta.labels?.[k];
    else if (field === 'annotation') now = meta.annotations?.[k];
    else if (field === 'ownerReference') now = (meta.ownerReferences ?? []).find((r) => r.uid === k) ?? null;
    else if (c.attribute === 'tolerations') now = live.spec?.tolerations ?? [];
    else throw new InternalError(`kubernetes cannot release ${what}`);
    if (same(now, c.before)) {
      plan.results.push(ok(c, true, `${what} was already back to ${JSON.stringify(c.before)}`));
      continue;
    }
    // Only undo what is still as holdfast left it: a value set since is not ours to revert.
    if (!same(now, c.after)) {
      plan.results.push(
        ok(
          c,
          false,
          `${what} is ${JSON.stringify(now ?? null)} now, not ${JSON.stringify(c.after)} as holdfast set it: changed since capture; left as it is`,
        ),
      );
      continue;
    }
    if (field === 'label') {
      labelPatch[k] = c.before as string | null;
      if (c.before === null) delete labels[k];
      else labels[k] = c.before as string;
    } else if (field === 'annotation') annotations[k] = c.before as string | null;
    else if (field === 'ownerReference') {
      restoreRefs.push({ change: c, ref: c.before as JsonObject });
      continue;
    } else tolerations = restoredTolerations(c.before as JsonObject[], (live.spec?.tolerations ?? []) as JsonObject[]);
    plan.results.push(ok(c, true));
  }

  // What each controller will do once the labels are back.
  const controllers = await controllersOf(client, ns, meta.uid ?? '');
  let predictions = predictReadoption({ name, labels }, controllers);
  const services = await serviceKeys(client, ns);
  const leftOut: Prediction[] = [];
  for (const p of predictions.filter((x) => endangers(x.verdict))) {
    // A certain deletion (a set scaled to 0, an old revision) is not prevented by any cost: never given back.
    if (ctx.readopt && p.verdict !== 'deletes') {
      plan.deletionCostFirst = true;
      plan.predictions.push(
        `pod ${key}: ${p.controller} will adopt it: ${p.why}; --readopt: its ${DELETION_COST_ANNOTATION} is set to ${MAX_DELETION_COST} first, so a ReplicaSet deletes it last`,
      );
      continue;
    }
    const selector = controllers.find((c) => c.uid === p.uid)?.selector;
    const restorable = Object.keys(labelPatch).filter((k) => k !== QUARANTINE_LABEL && k !== QUARANTINE_POD_LABEL);
    const keep = selector ? keysToKeepOut(selector, labels, restorable, services) : [];
    if (!keep.length) {
      plan.predictions.push(`pod ${key}: ${p.controller} selects it whatever release does: ${p.why}`);
      continue;
    }
    for (const k of keep) {
      delete labelPatch[k];
      delete labels[k];
      const r = plan.results.find((x) => changes.find((c) => c.id === x.changeId)?.attribute === `label:${k}`);
      if (r) {
        r.restored = false;
        r.note = `label ${k} left off ${key}: ${p.controller} would adopt the pod: ${p.why}; ${readoptHint(p)}`;
      }
    }
    leftOut.push(p);
    plan.predictions.push(
      `pod ${key}: ${p.controller} would adopt it: ${p.why} → left out of it (label ${keep.join(', ')} stays off); ${readoptHint(p)}`,
    );
  }
  predictions = predictReadoption({ name, labels }, controllers);
  for (const p of predictions.filter((x) => !endangers(x.verdict)))
    plan.predictions.push(`pod ${key}: ${p.controller} adopts it again: ${p.why}`);
  if (!predictions.length && !leftOut.length)
    plan.predictions.push(
      `pod ${key}: no controller selects its restored labels${labels['pod-template-hash'] ? ` (no ReplicaSet of template hash ${labels['pod-template-hash']} is left)` : ''}: it stays without an owner`,
    );

  // ownerReferences holdfast removed: put back only to an owner that still exists, is not being deleted, and will not delete the pod.
  const refs: JsonObject[] = (meta.ownerReferences ?? []).map((r) => ({
    apiVersion: r.apiVersion,
    kind: r.kind,
    name: r.name,
    uid: r.uid,
    ...(r.controller !== undefined ? { controller: r.controller } : {}),
    ...(r.blockOwnerDeletion !== undefined ? { blockOwnerDeletion: r.blockOwnerDeletion } : {}),
  }));
  for (const { change, ref } of restoreRefs) {
    const ownerKind = String(ref.kind);
    const ownerName = String(ref.name);
    const what = `${ownerKind} ${ownerName}`;
    const ownerPath = await ownerPathOf(
      client,
      ctx.run,
      ref.apiVersion as string | undefined,
      ownerKind,
      ns,
      ownerName,
    );
    const owner = ownerPath ? await getObject(client, ownerPath).catch(() => undefined) : undefined;
    const ownerMeta = owner?.metadata;
    const verdict = predictions.find((p) => p.uid === ref.uid)?.verdict;
    let why: string | undefined;
    if (!ownerMeta || ownerMeta.uid !== ref.uid)
      why = `${what} no longer exists (or could not be read): an ownerReference to a missing owner lets garbage collection delete the pod`;
    else if (ownerMeta.deletionTimestamp)
      why = `${what} is being deleted: garbage collection would delete the pod with it`;
    else if (refs.some((r) => r.controller)) why = 'the pod has another controller now';
    else if (leftOut.some((p) => p.uid === ref.uid)) why = `it was left out of ${what} (see above)`;
    else if (!ctx.readopt && (verdict === undefined ? !CONTROLLER_LISTS[ownerKind] : endangers(verdict)))
      why = `holdfast cannot tell whether ${what}'s controller would keep it; release --readopt gives it back`;
    if (why) {
      plan.results.push(ok(change, false, `ownerReference to ${what} not restored on ${key}: ${why}`));
      plan.predictions.push(`pod ${key}: ownerReference to ${what} stays removed: ${why}`);
      continue;
    }
    refs.push(ref);
    plan.results.push(ok(change, true));
    plan.predictions.push(`pod ${key}: ownerReference to ${what} restored`);
  }

  // One patch; the quarantine labels go last (a JSON merge patch applies atomically, so the order is for the reader).
  const ordered = Object.fromEntries(
    Object.entries(labelPatch).sort(
      ([a], [b]) => Number(a.startsWith('holdfast.io/')) - Number(b.startsWith('holdfast.io/')),
    ),
  );
  const metadata: JsonObject = { resourceVersion: meta.resourceVersion ?? null };
  if (Object.keys(ordered).length) metadata.labels = ordered;
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  if (refs.length !== (meta.ownerReferences ?? []).length) metadata.ownerReferences = refs;
  if (Object.keys(metadata).length > 1 || tolerations)
    plan.body = { metadata, ...(tolerations ? { spec: { tolerations } } : {}) };
  return plan;
}

async function releasePod(client: KubeClient, changes: ChangeRecord[], ctx: ReleaseContext): Promise<ReleaseResult[]> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const plan = await planPodRelease(client, changes, ctx);
    if (!plan.body) return plan.results;
    if (plan.deletionCostFirst)
      await patch(client, plan.path, { metadata: { annotations: { [DELETION_COST_ANNOTATION]: MAX_DELETION_COST } } });
    const status = await patch(client, plan.path, plan.body);
    if (status === 404) return changes.map((c) => ok(c, false, `${c.resource} no longer exists`));
    if (status === 409) continue; // the pod changed meanwhile: judge again
    return plan.results.map((r) =>
      plan.deletionCostFirst && r.restored && !r.note
        ? { ...r, note: `${DELETION_COST_ANNOTATION} set to ${MAX_DELETION_COST} first (--readopt)` }
        : r,
    );
  }
  throw new RemoteError(`${changes[0]!.resource} kept changing during release`, true);
}

/** A node's cordon changes: this incident leaves the holders; the last holder uncordons, if holdfast cordoned. */
async function releaseNode(
  client: KubeClient,
  changes: ChangeRecord[],
  ctx: ReleaseContext,
  dryRun: boolean,
): Promise<{ results: ReleaseResult[]; predictions: string[] }> {
  const { name } = refOf(changes[0]!.resource);
  for (let attempt = 0; attempt < 3; attempt++) {
    const live = await getObject<V1Node>(client, nodePath(name));
    if (!live) return { results: changes.map((c) => ok(c, false, `node:${name} no longer exists`)), predictions: [] };
    const holders = cordonHolders(live);
    const others = holders.filter((h) => h !== ctx.incident);
    const holdfastCordoned = Boolean(live.metadata?.labels?.[CORDON_LABEL]);
    const metadata: JsonObject = { resourceVersion: live.metadata?.resourceVersion ?? null };
    const body: JsonObject = { metadata };
    const results: ReleaseResult[] = [];
    const lastHolder = changes.some((c) => c.attribute === 'cordon-holder') && !others.length;
    if (holders.includes(ctx.incident))
      metadata.annotations = { 'holdfast.io/cordon-holders': others.length ? others.join(',') : null };
    if (lastHolder && holdfastCordoned) {
      if (live.spec?.unschedulable) body.spec = { unschedulable: false };
      metadata.labels = { [CORDON_LABEL]: null };
    }
    for (const c of changes) {
      if (c.attribute === 'cordon-holder') {
        results.push(ok(c, true, others.length ? `node ${name} is still held by ${others.join(', ')}` : undefined));
        continue;
      }
      if (others.length) {
        results.push(
          ok(
            c,
            false,
            `node ${name} is still held by ${others.join(', ')}: it stays cordoned until the last holder releases it`,
          ),
        );
        continue;
      }
      const now =
        c.attribute === 'unschedulable'
          ? (live.spec?.unschedulable ?? false)
          : c.attribute.startsWith('label:')
            ? (live.metadata?.labels?.[c.attribute.slice('label:'.length)] ?? null)
            : undefined;
      if (now === undefined) throw new InternalError(`kubernetes cannot release node ${c.attribute}`);
      if (same(now, c.before))
        results.push(ok(c, true, `node:${name} ${c.attribute} was already back to ${JSON.stringify(c.before)}`));
      else if (!same(now, c.after))
        results.push(
          ok(
            c,
            false,
            `node:${name} ${c.attribute} is ${JSON.stringify(now)} now, not ${JSON.stringify(c.after)} as holdfast set it: changed since capture; left as it is`,
          ),
        );
      else {
        if (c.attribute === 'unschedulable') body.spec = { unschedulable: c.before };
        else metadata.labels = { [c.attribute.slice('label:'.length)]: c.before };
        results.push(ok(c, true));
      }
    }
    const prediction = others.length
      ? `node ${name}: still held by ${others.join(', ')}: stays cordoned`
      : body.spec && (body.spec as JsonObject).unschedulable === false
        ? `node ${name}: uncordoned (holdfast cordoned it and no other incident holds it)`
        : live.spec?.unschedulable
          ? `node ${name}: stays cordoned (cordoned by someone else, not by holdfast)`
          : `node ${name}: not cordoned now`;
    if (dryRun) return { results, predictions: [prediction] };
    if (Object.keys(metadata).length === 1 && !body.spec) return { results, predictions: [prediction] };
    const status = await patch(client, nodePath(name), body);
    if (status === 409) continue;
    if (status === 404)
      return { results: changes.map((c) => ok(c, false, `node:${name} no longer exists`)), predictions: [] };
    return { results, predictions: [prediction] };
  }
  throw new RemoteError(`node ${name} kept changing during release`, true);
}

/** A Job's or CronJob's suspension, undone only if still as holdfast left it. */
async function releaseSuspension(client: KubeClient, change: ChangeRecord, dryRun: boolean): Promise<ReleaseResult> {
  const { kind, ns, name } = refOf(change.resource);
  const path = `/apis/batch/v1/namespaces/${ns}/${kind === 'job' ? 'jobs' : 'cronjobs'}/${name}`;
  const live = await getObject<ControllerObject>(client, path);
  if (!live) return ok(change, false, `${change.resource} no longer exists`);
  const now = live.spec?.suspend ?? false;
  if (same(now, change.before))
    return ok(change, true, `${change.resource} suspend was already ${JSON.stringify(change.before)}`);
  if (!same(now, change.after))
    return ok(
      change,
      false,
      `${change.resource} suspend is ${JSON.stringify(now)} now: changed since capture; left as it is`,
    );
  if (!dryRun && (await patch(client, path, { spec: { suspend: change.before } })) === 404)
    return ok(change, false, `${change.resource} no longer exists`);
  return ok(change, true);
}

/** Order: pods first (before their Job resumes), then Jobs and CronJobs, then nodes. */
const KIND_ORDER = ['pod', 'job', 'cronjob', 'node'];

function groups(changes: ChangeRecord[]): ChangeRecord[][] {
  const byResource = new Map<string, ChangeRecord[]>();
  for (const c of changes) byResource.set(c.resource, [...(byResource.get(c.resource) ?? []), c]);
  const rank = (r: string) => {
    const i = KIND_ORDER.indexOf(refOf(r).kind);
    return i < 0 ? KIND_ORDER.length : i;
  };
  return [...byResource.values()].sort((a, b) => rank(a[0]!.resource) - rank(b[0]!.resource));
}

async function run(
  changes: ChangeRecord[],
  ctx: ReleaseContext,
  dryRun: boolean,
): Promise<{ results: ReleaseResult[]; predictions: string[] }> {
  const client = kubeClientFor(ctx);
  const results: ReleaseResult[] = [];
  const predictions: string[] = [];
  for (const group of groups(changes)) {
    const { kind } = refOf(group[0]!.resource);
    try {
      const created = group.filter((c) => c.attribute === 'created');
      for (const c of created)
        results.push(
          ok(
            c,
            false,
            `${c.resource} stays in place: holdfast never deletes; remove it when the investigation is over`,
          ),
        );
      const rest = group.filter((c) => c.attribute !== 'created');
      if (!rest.length) continue;
      if (kind === 'pod') {
        if (dryRun) {
          const plan = await planPodRelease(client, rest, ctx);
          results.push(...plan.results);
          predictions.push(...plan.predictions);
        } else results.push(...(await releasePod(client, rest, ctx)));
      } else if (kind === 'node') {
        const node = await releaseNode(client, rest, ctx, dryRun);
        results.push(...node.results);
        predictions.push(...node.predictions);
      } else if (kind === 'job' || kind === 'cronjob') {
        for (const c of rest) {
          const r = await releaseSuspension(client, c, dryRun);
          results.push(r);
          if (dryRun && r.restored && !r.note) predictions.push(`${c.resource}: resumed (spec.suspend back to false)`);
        }
      } else throw new InternalError(`kubernetes cannot release ${group[0]!.resource}`);
    } catch (error) {
      const e = describeError(error);
      for (const c of group)
        if (!results.some((r) => r.changeId === c.id))
          results.push({ changeId: c.id, restored: false, error: { code: e.code, message: e.message } });
    }
  }
  return { results, predictions };
}

/** Release every pending change of the incident (see the file comment for the order and the judgement). */
export async function releaseKubeChanges(changes: ChangeRecord[], ctx: ReleaseContext): Promise<ReleaseResult[]> {
  return (await run(changes, ctx, false)).results;
}

/** release --dry-run: what each controller and node would do, read-only. */
export async function predictKubeRelease(changes: ChangeRecord[], ctx: ReleaseContext): Promise<string[]> {
  return (await run(changes, ctx, true)).predictions;
}
