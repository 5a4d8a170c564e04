/** Kubernetes steps: protect, collect, quarantine policy, orphan, cordon, checkpoint. Merge patches only. */
import { RemoteError } from '../../src/errors.js';
import type { JsonObject, StepContext, StepOutcome } from '../../src/types.js';
import { MERGE_PATCH, type KubeClient } from './client.js';
import { kubeClientFor } from './context.js';
import { CORDON_LABEL, EVICTION_ANNOTATIONS, QUARANTINE_LABEL, type NodeFacts, type PodFacts } from './facts.js';

interface PodInputs {
  pod: PodFacts;
  objectName: string;
}

const podPath = (p: PodFacts) => `/api/v1/namespaces/${p.namespace}/pods/${p.name}`;

async function must(client: KubeClient, method: string, path: string, options: Parameters<KubeClient['send']>[2] = {}): Promise<any> {
  const res = await client.send(method, path, options);
  if (res.status >= 400) throw new RemoteError(`${method} ${path}: ${res.status} ${res.body?.message ?? res.text.slice(0, 200)}`, false);
  return res.body;
}

/** The quarantine PodDisruptionBudget: integer minAvailable so no voluntary eviction can take the pod. */
export function quarantinePdb(name: string, incident: string): JsonObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, labels: { [QUARANTINE_LABEL]: incident } },
    spec: { minAvailable: 1, selector: { matchLabels: { [QUARANTINE_LABEL]: incident } } },
  };
}

/** The quarantine NetworkPolicy: both directions listed; ingress only from the forensic CIDRs; no egress. */
export function quarantinePolicy(name: string, incident: string, forensicCidrs: readonly string[], ports?: readonly { from: number; to: number }[]): JsonObject {
  const from = forensicCidrs.map((cidr) => ({ ipBlock: { cidr } }));
  const portList = ports?.map((p) => ({ protocol: 'TCP', port: p.from, ...(p.to !== p.from ? { endPort: p.to } : {}) }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, labels: { [QUARANTINE_LABEL]: incident } },
    spec: {
      podSelector: { matchLabels: { [QUARANTINE_LABEL]: incident } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: from.length ? [{ from, ...(portList?.length ? { ports: portList } : {}) }] : [],
      egress: [],
    },
  };
}

async function ensureObject(ctx: StepContext, collectionPath: string, object: JsonObject): Promise<'created' | 'existed'> {
  const client = kubeClientFor(ctx);
  const name = (object.metadata as JsonObject).name as string;
  const existing = await client.send('GET', `${collectionPath}/${name}`);
  if (existing.status === 200) return 'existed';
  ctx.recordIntent({ create: object.kind as string, path: `${collectionPath}/${name}` });
  const res = await client.send('POST', collectionPath, { body: object });
  if (res.status === 409) return 'existed';
  if (res.status >= 400) throw new RemoteError(`create ${object.kind} ${name}: ${res.status} ${res.body?.message ?? ''}`, false);
  return 'created';
}

export async function runProtect(ctx: StepContext): Promise<StepOutcome> {
  const { pod, objectName } = ctx.step.inputs as unknown as PodInputs;
  const client = kubeClientFor(ctx);
  const now = await must(client, 'GET', podPath(pod));
  const labels: Record<string, string> = now.metadata.labels ?? {};
  const annotations: Record<string, string> = now.metadata.annotations ?? {};
  const patch: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } = { metadata: { labels: {}, annotations: {} } };
  // Adding a new label key changes no controller's or Service's match: safe before anything else.
  if (labels[QUARANTINE_LABEL] !== ctx.incident) {
    ctx.recordChange({ resource: `pod:${pod.namespace}/${pod.name}`, attribute: `label:${QUARANTINE_LABEL}`, before: labels[QUARANTINE_LABEL] ?? null, after: ctx.incident, reversible: true });
    patch.metadata.labels[QUARANTINE_LABEL] = ctx.incident;
  }
  for (const [k, v] of Object.entries(EVICTION_ANNOTATIONS)) {
    if (annotations[k] === v) continue;
    ctx.recordChange({ resource: `pod:${pod.namespace}/${pod.name}`, attribute: `annotation:${k}`, before: annotations[k] ?? null, after: v, reversible: false });
    patch.metadata.annotations[k] = v;
  }
  if (Object.keys(patch.metadata.labels).length || Object.keys(patch.metadata.annotations).length) {
    await must(client, 'PATCH', podPath(pod), { body: patch, contentType: MERGE_PATCH });
  }
  const pdb = await ensureObject(ctx, `/apis/policy/v1/namespaces/${pod.namespace}/poddisruptionbudgets`, quarantinePdb(objectName, ctx.incident));
  return { outputs: { pdb: objectName, pdbCreated: pdb === 'created' } };
}

export async function runCollect(ctx: StepContext): Promise<StepOutcome> {
  const { pod } = ctx.step.inputs as unknown as PodInputs;
  const client = kubeClientFor(ctx);
  const at = () => new Date().toISOString();
  const limitations: string[] = [];
  const live = await must(client, 'GET', podPath(pod));
  const source = { kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion };
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  const put = (name: string, type: string, api: string, body: string) =>
    ctx.putArtifact({ name, type, source, acquiredAt: at(), method: { api }, contentType: name.endsWith('.json') ? 'application/json' : 'text/plain' }, body);

  await put('pod.json', 'k8s-pod', `GET ${podPath(pod)}`, json(live));
  const owners = [];
  for (const o of pod.owners) {
    const group = ['ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind) ? 'apis/apps/v1' : ['Job', 'CronJob'].includes(o.kind) ? 'apis/batch/v1' : undefined;
    if (!group) continue;
    const res = await client.send('GET', `/${group}/namespaces/${pod.namespace}/${o.kind.toLowerCase()}s/${o.name}`);
    owners.push(res.status === 200 ? res.body : { kind: o.kind, name: o.name, error: res.status });
  }
  await put('owners.json', 'k8s-owners', 'GET owner chain', json(owners));
  if (pod.nodeName) await put('node.json', 'k8s-node', `GET /api/v1/nodes/${pod.nodeName}`, json((await client.send('GET', `/api/v1/nodes/${pod.nodeName}`)).body));
  const services = (await client.send('GET', `/api/v1/namespaces/${pod.namespace}/services`)).body.items ?? [];
  await put('services.json', 'k8s-services', 'GET services', json(services.filter((s: any) => pod.services.includes(s.metadata.name))));
  const policies = (await client.send('GET', `/apis/networking.k8s.io/v1/namespaces/${pod.namespace}/networkpolicies`)).body.items ?? [];
  const pdbs = (await client.send('GET', `/apis/policy/v1/namespaces/${pod.namespace}/poddisruptionbudgets`)).body.items ?? [];
  await put('policies.json', 'k8s-policies', 'GET networkpolicies, poddisruptionbudgets', json({ networkPolicies: policies.filter((p: any) => pod.policies.includes(p.metadata.name)), podDisruptionBudgets: pdbs.filter((p: any) => pod.pdbs.includes(p.metadata.name)) }));
  // Events expire (one hour by default): that is why collection runs before anything else changes.
  const events = await client.send('GET', `/api/v1/namespaces/${pod.namespace}/events`, { query: { fieldSelector: `involvedObject.uid=${live.metadata.uid}` } });
  await put('events.json', 'k8s-events', 'GET events (involvedObject.uid)', json(events.body.items ?? []));
  for (const container of [...pod.initContainers, ...pod.containers]) {
    for (const previous of [false, true]) {
      const name = `log-${container}${previous ? '-previous' : ''}.txt`;
      try {
        const res = await client.send('GET', `${podPath(pod)}/log`, { query: { container, timestamps: 'true', ...(previous ? { previous: 'true' } : {}) } });
        if (res.status === 200) await put(name, 'k8s-log', `GET pods/log container=${container}${previous ? ' previous' : ''}`, res.text);
        else if (!(previous && res.status === 400)) limitations.push(`${previous ? 'previous ' : ''}logs of ${pod.namespace}/${pod.name} container ${container} could not be read: ${res.body?.message ?? res.status}`);
      } catch (error) {
        limitations.push(`${previous ? 'previous ' : ''}logs of ${pod.namespace}/${pod.name} container ${container} could not be read: ${(error as Error).message}`);
      }
    }
  }
  return { limitations };
}

export async function runCheckpoint(ctx: StepContext): Promise<StepOutcome> {
  const { pod } = ctx.step.inputs as unknown as PodInputs;
  const client = kubeClientFor(ctx);
  const limitations: string[] = [];
  const archives: string[] = [];
  for (const c of pod.containers) {
    try {
      const res = await client.send('POST', `/api/v1/nodes/${pod.nodeName}/proxy/checkpoint/${pod.namespace}/${pod.name}/${c}`);
      if (res.status === 200) archives.push(...((res.body?.items as string[]) ?? []));
      else limitations.push(`checkpoint of ${pod.namespace}/${pod.name}/${c} refused (${res.status}): ${res.body?.message ?? res.text.slice(0, 120)}`);
    } catch (error) {
      limitations.push(`checkpoint of ${pod.namespace}/${pod.name}/${c} failed: ${(error as Error).message}`);
    }
  }
  return { outputs: { archivesOnNode: archives }, limitations };
}

export async function runQuarantinePolicy(ctx: StepContext): Promise<StepOutcome> {
  const { pod, objectName } = ctx.step.inputs as unknown as PodInputs;
  const result = await ensureObject(ctx, `/apis/networking.k8s.io/v1/namespaces/${pod.namespace}/networkpolicies`, quarantinePolicy(objectName, ctx.incident, ctx.kase.forensicCidrs, ctx.kase.forensicPorts));
  return { outputs: { policy: objectName, created: result === 'created' } };
}

/** Remove exactly the label keys the controller and Services select on, after recording them. */
export async function runOrphan(ctx: StepContext): Promise<StepOutcome> {
  const { pod } = ctx.step.inputs as unknown as PodInputs;
  const client = kubeClientFor(ctx);
  const now = await must(client, 'GET', podPath(pod));
  const labels: Record<string, string> = now.metadata.labels ?? {};
  if (labels[QUARANTINE_LABEL] !== ctx.incident) throw new RemoteError(`${pod.namespace}/${pod.name} lacks the quarantine label; refusing to take it out of its controller unprotected`, false);
  const patch: Record<string, null> = {};
  for (const key of pod.selectorKeys) {
    if (!(key in labels)) continue;
    ctx.recordChange({ resource: `pod:${pod.namespace}/${pod.name}`, attribute: `label:${key}`, before: labels[key]!, after: null, reversible: true });
    patch[key] = null;
  }
  if (Object.keys(patch).length) await must(client, 'PATCH', podPath(pod), { body: { metadata: { labels: patch } }, contentType: MERGE_PATCH });
  return { outputs: { removedLabels: Object.keys(patch) } };
}

export async function runNodeRecord(ctx: StepContext): Promise<StepOutcome> {
  const { node } = ctx.step.inputs as unknown as { node: NodeFacts };
  const live = await must(kubeClientFor(ctx), 'GET', `/api/v1/nodes/${node.name}`);
  await ctx.putArtifact(
    { name: 'node.json', type: 'k8s-node', source: { kind: 'Node', name: node.name, uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion, providerID: node.providerID }, acquiredAt: new Date().toISOString(), method: { api: `GET /api/v1/nodes/${node.name}` }, contentType: 'application/json' },
    `${JSON.stringify(live, null, 2)}\n`,
  );
  return {};
}

export async function runCordon(ctx: StepContext): Promise<StepOutcome> {
  const { node } = ctx.step.inputs as unknown as { node: NodeFacts };
  const client = kubeClientFor(ctx);
  const live = await must(client, 'GET', `/api/v1/nodes/${node.name}`);
  const patch: { spec?: { unschedulable: true }; metadata?: { labels: Record<string, string> } } = {};
  if (!live.spec?.unschedulable) {
    ctx.recordChange({ resource: `node:${node.name}`, attribute: 'unschedulable', before: false, after: true, reversible: true });
    patch.spec = { unschedulable: true };
  }
  if (live.metadata.labels?.[CORDON_LABEL] !== ctx.incident) {
    ctx.recordChange({ resource: `node:${node.name}`, attribute: `label:${CORDON_LABEL}`, before: live.metadata.labels?.[CORDON_LABEL] ?? null, after: ctx.incident, reversible: true });
    patch.metadata = { labels: { [CORDON_LABEL]: ctx.incident } };
  }
  if (patch.spec || patch.metadata) await must(client, 'PATCH', `/api/v1/nodes/${node.name}`, { body: patch, contentType: MERGE_PATCH });
  return {};
}
