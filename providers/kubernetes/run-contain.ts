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
  type KubernetesObject,
  type V1NetworkPolicy,
  type V1Node,
  type V1PodDisruptionBudget,
  type V1Service,
} from './client.js';
import { kubeClientFor } from './context.js';
import { getObject, livePod } from './discover.js';
import {
  CORDON_HOLDERS_ANNOTATION,
  CORDON_LABEL,
  EVICTION_ANNOTATIONS,
  NODE_FAILURE_TAINTS,
  QUARANTINE_LABEL,
  type LabelSelector,
  type PodFacts,
} from './facts.js';
import { differenceFromWanted, quarantineLabels, quarantinePdb, quarantinePolicy } from './objects.js';
import { leaveController } from './run-leave-owner.js';
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
  // Right after the labels: a Job starts its replacement within a second of losing the pod.
  const left = await leaveController(ctx, pod);
  return {
    outputs: {
      originalLabels: original,
      quarantineLabels: marked,
      detachedLabels: detached,
      leftSelectors: holding.map((h) => h.source),
      ...left.outputs,
    },
    limitations: [
      ...unbreakable.map(
        (s) => `${s} still selects ${pod.namespace}/${pod.name}: no label change takes the pod out of it`,
      ),
      ...left.limitations,
    ],
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
  const params = ctx.kase.targets.kubernetes as { tolerateNodeFailure?: boolean } | undefined;
  const tolerates = params?.tolerateNodeFailure ? await tolerateNodeFailure(ctx, pod) : false;
  return {
    outputs: {
      podDisruptionBudget: objectName,
      created: result === 'created',
      annotations: annotated,
      tolerationsChanged: tolerates,
    },
  };
}

/** The incidents holding a node's cordon, from its annotation. */
export function cordonHolders(node: KubernetesObject | undefined): string[] {
  const raw = node?.metadata?.annotations?.[CORDON_HOLDERS_ANNOTATION];
  return raw ? raw.split(',').filter(Boolean) : [];
}

/**
 * 4. Cordon the node: `spec.unschedulable`, never a NoExecute taint, never a drain. Cordons are
 * shared: the node's annotation lists every incident holding it, and the label names the incident
 * that cordoned it — present only when holdfast did, so release never uncordons someone else's cordon.
 */
export async function runCordon(ctx: KubeStepContext<'cordon'>): Promise<KubeOutcome<'cordon'>> {
  const { node } = ctx.step.inputs;
  const client = kubeClientFor(ctx);
  const recorded = new Set<string>();
  for (let attempt = 0; attempt < 3; attempt++) {
    const live = await getObject<V1Node>(client, nodePath(node.name));
    if (!live?.metadata) throw new RemoteError(`node ${node.name} no longer exists`, false);
    const holders = cordonHolders(live);
    const body: { spec?: JsonObject; metadata: JsonObject } = {
      // The holders list is read-modify-write: only over what was read.
      metadata: { resourceVersion: live.metadata.resourceVersion ?? null },
    };
    const changes: Parameters<KubeStepContext<'cordon'>['recordChange']>[0][] = [];
    if (!live.spec?.unschedulable) {
      changes.push(
        { resource: `node:${node.name}`, attribute: 'unschedulable', before: false, after: true, reversible: true },
        {
          resource: `node:${node.name}`,
          attribute: `label:${CORDON_LABEL}`,
          before: live.metadata.labels?.[CORDON_LABEL] ?? null,
          after: ctx.incident,
          reversible: true,
        },
      );
      body.spec = { unschedulable: true };
      body.metadata.labels = { [CORDON_LABEL]: ctx.incident };
    }
    if (!holders.includes(ctx.incident)) {
      changes.push({
        resource: `node:${node.name}`,
        attribute: 'cordon-holder',
        before: null,
        after: ctx.incident,
        reversible: true,
      });
      body.metadata.annotations = { [CORDON_HOLDERS_ANNOTATION]: [...holders, ctx.incident].join(',') };
    }
    if (!changes.length) return { outputs: { cordoned: false, alreadyCordoned: true, holders } };
    for (const c of changes.filter((c) => !recorded.has(c.attribute))) {
      recorded.add(c.attribute);
      await ctx.recordChange(c);
    }
    const res = await client.send('PATCH', nodePath(node.name), { body: body as JsonObject, contentType: MERGE_PATCH });
    if (res.status === 409) continue;
    if (res.status >= 400)
      throw new RemoteError(`PATCH ${nodePath(node.name)}: ${res.status} ${messageOf(res) ?? ''}`.trim(), false);
    return {
      outputs: {
        cordoned: Boolean(body.spec),
        alreadyCordoned: Boolean(live.spec?.unschedulable),
        holders: [...holders, ctx.incident],
      },
      ...(holders.length
        ? {
            note: `node ${node.name} is also held by ${holders.join(', ')}: it stays cordoned until the last holder releases it`,
          }
        : {}),
    };
  }
  throw new RemoteError(`node ${node.name} kept changing: its cordon holders could not be updated`, true);
}

/**
 * Opt-in (--tolerate-node-failure): the pod tolerates the node-failure NoExecute taints with no
 * time limit, so a node turning NotReady or unreachable does not evict it. A pod's tolerations may
 * only be added to, or have their tolerationSeconds changed: the taint manager evicts after the
 * shortest matching tolerationSeconds, so the defaults (300 s) lose theirs rather than being joined.
 */
export function nodeFailureTolerations(current: readonly JsonObject[]): JsonObject[] {
  const out = current.map((t) =>
    t.effect === 'NoExecute' && NODE_FAILURE_TAINTS.includes(t.key as (typeof NODE_FAILURE_TAINTS)[number])
      ? Object.fromEntries(Object.entries(t).filter(([k]) => k !== 'tolerationSeconds'))
      : t,
  );
  for (const key of NODE_FAILURE_TAINTS)
    if (!out.some((t) => t.key === key && t.effect === 'NoExecute'))
      out.push({ key, operator: 'Exists', effect: 'NoExecute' });
  return out;
}

async function tolerateNodeFailure(ctx: KubeStepContext<'eviction-protection'>, pod: PodFacts): Promise<boolean> {
  const client = kubeClientFor(ctx);
  const live = await livePod(client, pod);
  const before = (live.spec?.tolerations ?? []) as JsonObject[];
  const after = nodeFailureTolerations(before);
  if (JSON.stringify(after) === JSON.stringify(before)) return false;
  await ctx.recordChange({
    resource: `pod:${pod.namespace}/${pod.name}`,
    attribute: 'tolerations',
    before,
    after,
    reversible: true,
  });
  await patch(client, podPath(pod.namespace, pod.name), {
    metadata: { resourceVersion: live.metadata?.resourceVersion ?? null },
    spec: { tolerations: after },
  });
  return true;
}

/**
 * A hostNetwork pod shares its node's network: no NetworkPolicy applies to it. Without the node's
 * own isolation (--isolate-node, where a provider recognises the node's machine) the pod is not cut off, and the capture must not
 * say complete.
 */
export async function runHostNetworkCheck(ctx: KubeStepContext<'host-network'>): Promise<KubeOutcome<'host-network'>> {
  const { pod } = ctx.step.inputs;
  const live = await livePod(kubeClientFor(ctx), pod);
  if (!live.spec?.hostNetwork) return { outputs: { hostNetwork: false } };
  throw new RemoteError(
    `${pod.namespace}/${pod.name} uses the host network: the quarantine NetworkPolicy cannot isolate it, and its node is not isolated; re-run with --isolate-node (where a provider recognises the node's machine) or isolate node ${pod.nodeName ?? '(unscheduled)'} by other means`,
    false,
  );
}
