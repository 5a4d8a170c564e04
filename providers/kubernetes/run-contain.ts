/**
 * Contain-phase steps, in the order quarantine needs: the NetworkPolicy first, then the labels
 * (quarantine label, then the holding selectors' keys), then eviction protection; the node's
 * cordon waits for its pods. Every original value is recorded before it changes; merge patches only.
 */
import { RemoteError } from '../../src/core/errors.js';
import type { JsonObject, StepContext } from '../../src/core/types.js';
import { networkPoliciesPath, nodePath, pdbsPath, podPath, servicesPath } from './api-paths.js';
import {
  MERGE_PATCH,
  messageOf,
  type KubeClient,
  type KubeList,
  type V1NetworkPolicy,
  type V1Node,
  type V1PodDisruptionBudget,
  type V1Service,
} from './client.js';
import { kubeClientFor } from './context.js';
import { getObject, livePod } from './discover.js';
import { CORDON_LABEL, EVICTION_ANNOTATIONS, QUARANTINE_LABEL, type LabelSelector, type PodFacts } from './facts.js';
import { differenceFromWanted, quarantineLabels, quarantinePdb, quarantinePolicy } from './objects.js';
import { detachingLabelPatch, selects, type LabelPatch } from './selectors.js';
import type { KubeOutcome, KubeStepContext } from './steps.js';

async function patch(client: KubeClient, path: string, body: JsonObject): Promise<void> {
  const res = await client.send('PATCH', path, { body, contentType: MERGE_PATCH });
  if (res.status >= 400) throw new RemoteError(`PATCH ${path}: ${res.status} ${messageOf(res) ?? ''}`.trim(), false);
}

/** Create `wanted` unless it exists; an existing object must be exactly ours, or nothing is assumed isolated. */
async function ensureObject(ctx: StepContext, collection: string, wanted: JsonObject): Promise<'created' | 'existed'> {
  const client = kubeClientFor(ctx);
  const name = (wanted.metadata as JsonObject).name as string;
  const path = `${collection}/${name}`;
  const check = (existing: V1NetworkPolicy | V1PodDisruptionBudget) => {
    const why = differenceFromWanted(existing, wanted);
    if (why)
      throw new RemoteError(
        `${wanted.kind} ${path.split('/namespaces/')[1]} exists but is not this incident's quarantine object (${why}); holdfast does not overwrite it`,
        false,
      );
  };
  const existing = await getObject<V1NetworkPolicy | V1PodDisruptionBudget>(client, path);
  if (existing) {
    check(existing);
    return 'existed';
  }
  await ctx.recordIntent({ create: wanted.kind as string, path });
  const res = await client.send('POST', collection, { body: wanted });
  if (res.status === 409) {
    check((await getObject<V1NetworkPolicy | V1PodDisruptionBudget>(client, path)) ?? {});
    return 'existed';
  }
  if (res.status >= 400)
    throw new RemoteError(`create ${wanted.kind} ${name}: ${res.status} ${messageOf(res) ?? ''}`.trim(), false);
  const ns = path.split('/namespaces/')[1]!.split('/')[0];
  // Kept by release (holdfast never deletes); recorded so responders know what to remove later.
  await ctx.recordChange({
    resource: `${String(wanted.kind).toLowerCase()}:${ns}/${name}`,
    attribute: 'created',
    before: null,
    after: name,
    reversible: false,
  });
  return 'created';
}

/** Patch the pod's labels or annotations, recording each original value first (release restores it). */
async function patchPodMetadata(
  ctx: StepContext,
  pod: PodFacts,
  field: 'labels' | 'annotations',
  current: Record<string, string>,
  wanted: LabelPatch,
): Promise<string[]> {
  const changed = Object.entries(wanted).filter(([k, v]) =>
    v === null ? Object.hasOwn(current, k) : current[k] !== v,
  );
  if (!changed.length) return [];
  const kind = field === 'labels' ? 'label' : 'annotation';
  for (const [k, v] of changed)
    await ctx.recordChange({
      resource: `pod:${pod.namespace}/${pod.name}`,
      attribute: `${kind}:${k}`,
      before: current[k] ?? null,
      after: v,
      reversible: true,
    });
  await patch(kubeClientFor(ctx), podPath(pod.namespace, pod.name), {
    metadata: { [field]: Object.fromEntries(changed) },
  });
  return changed.map(([k]) => k);
}

/** 1. The quarantine NetworkPolicy, before any label changes. */
export async function runQuarantinePolicy(
  ctx: KubeStepContext<'quarantine-policy'>,
): Promise<KubeOutcome<'quarantine-policy'>> {
  const { pod, objectName } = ctx.step.inputs;
  const wanted = quarantinePolicy(objectName, ctx.incident, ctx.kase.forensicCidrs, ctx.kase.forensicPorts);
  const result = await ensureObject(ctx, networkPoliciesPath(pod.namespace), wanted);
  return { outputs: { networkPolicy: objectName, created: result === 'created' } };
}

/**
 * 2. Add the quarantine labels (the policy now selects the pod), then change only the keys of the
 * selectors that hold the pod — its controller's and the Services' — so the controller starts a
 * replacement and the pod leaves the endpoints, while the policy still selects it.
 */
export async function runQuarantineLabels(
  ctx: KubeStepContext<'quarantine-labels'>,
): Promise<KubeOutcome<'quarantine-labels'>> {
  const { pod, objectName } = ctx.step.inputs;
  const client = kubeClientFor(ctx);
  if (!(await getObject(client, `${networkPoliciesPath(pod.namespace)}/${objectName}`))) {
    throw new RemoteError(
      `NetworkPolicy ${pod.namespace}/${objectName} is missing: refusing to take ${pod.namespace}/${pod.name} out of its controller unisolated`,
      false,
    );
  }
  const original = (await livePod(client, pod)).metadata?.labels ?? {};
  const marked = await patchPodMetadata(ctx, pod, 'labels', original, quarantineLabels(ctx.incident, pod));
  const labels = { ...original, ...quarantineLabels(ctx.incident, pod) };
  // Services are read again: one created since planning must not keep the pod in its endpoints.
  const services = (await client.send<KubeList<V1Service>>('GET', servicesPath(pod.namespace))).body?.items ?? [];
  const holding: { source: string; selector: LabelSelector }[] = [
    ...pod.holdingSelectors.filter((h) => !h.source.startsWith('Service ')),
    ...services.flatMap((s) => {
      const selector = s.spec?.selector;
      return selector && Object.keys(selector).length
        ? [{ source: `Service ${s.metadata?.name}`, selector: { matchLabels: selector } }]
        : [];
    }),
    // A Service a responder made to reach the quarantined pod selects our label: it is meant to hold it.
  ].filter((h) => selects(h.selector, labels) && !Object.hasOwn(h.selector.matchLabels ?? {}, QUARANTINE_LABEL));
  const { patch: detach, unbreakable } = detachingLabelPatch(labels, holding);
  const detached = await patchPodMetadata(ctx, pod, 'labels', labels, detach);
  return {
    outputs: {
      originalLabels: original,
      quarantineLabels: marked,
      detachedLabels: detached,
      leftSelectors: holding.map((h) => h.source),
    },
    limitations: unbreakable.map(
      (s) => `${s} still selects ${pod.namespace}/${pod.name}: no label change takes the pod out of it`,
    ),
  };
}

/** 3. Eviction protection: the pod's own PDB (integer minAvailable), then the autoscalers' do-not-evict annotations. */
export async function runEvictionProtection(
  ctx: KubeStepContext<'eviction-protection'>,
): Promise<KubeOutcome<'eviction-protection'>> {
  const { pod, objectName } = ctx.step.inputs;
  const result = await ensureObject(ctx, pdbsPath(pod.namespace), quarantinePdb(objectName, ctx.incident, pod));
  const live = await livePod(kubeClientFor(ctx), pod);
  const annotated = await patchPodMetadata(ctx, pod, 'annotations', live.metadata?.annotations ?? {}, {
    ...EVICTION_ANNOTATIONS,
  });
  return { outputs: { podDisruptionBudget: objectName, created: result === 'created', annotations: annotated } };
}

/** 4. Cordon the node: `spec.unschedulable` and a label saying why. Never a NoExecute taint, never a drain. */
export async function runCordon(ctx: KubeStepContext<'cordon'>): Promise<KubeOutcome<'cordon'>> {
  const { node } = ctx.step.inputs;
  const client = kubeClientFor(ctx);
  const live = await getObject<V1Node>(client, nodePath(node.name));
  if (!live) throw new RemoteError(`node ${node.name} no longer exists`, false);
  const body: { spec?: { unschedulable: true }; metadata?: { labels: Record<string, string> } } = {};
  if (!live.spec?.unschedulable) {
    await ctx.recordChange({
      resource: `node:${node.name}`,
      attribute: 'unschedulable',
      before: false,
      after: true,
      reversible: true,
    });
    body.spec = { unschedulable: true };
  }
  const label = live.metadata?.labels?.[CORDON_LABEL];
  if (label !== ctx.incident) {
    await ctx.recordChange({
      resource: `node:${node.name}`,
      attribute: `label:${CORDON_LABEL}`,
      before: label ?? null,
      after: ctx.incident,
      reversible: true,
    });
    body.metadata = { labels: { [CORDON_LABEL]: ctx.incident } };
  }
  if (body.spec || body.metadata) await patch(client, nodePath(node.name), body as JsonObject);
  return { outputs: { cordoned: Boolean(body.spec), alreadyCordoned: Boolean(live.spec?.unschedulable) } };
}
