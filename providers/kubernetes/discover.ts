/** Read-only discovery: pods, their owner chain, node, and the Services, NetworkPolicies and PDBs that select them. */
import { BadInputError } from '../../src/errors.js';
import type { ProviderContext } from '../../src/types.js';
import type { KubeClient } from './client.js';
import { kubeClientFor } from './context.js';
import type { KubeFacts, KubeParams, NodeFacts, PodFacts } from './facts.js';

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Where each owner kind lives in the API. */
const OWNER_PATHS: Record<string, (ns: string, name: string) => string> = {
  ReplicaSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/replicasets/${n}`,
  Deployment: (ns, n) => `/apis/apps/v1/namespaces/${ns}/deployments/${n}`,
  StatefulSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/statefulsets/${n}`,
  DaemonSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/daemonsets/${n}`,
  Job: (ns, n) => `/apis/batch/v1/namespaces/${ns}/jobs/${n}`,
  CronJob: (ns, n) => `/apis/batch/v1/namespaces/${ns}/cronjobs/${n}`,
};

/** Does a label selector select these labels? (Empty selector selects everything.) */
export function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values?.includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && e.values?.includes(labels[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function selectorKeys(selector: Selector | undefined): string[] {
  return [...Object.keys(selector?.matchLabels ?? {}), ...(selector?.matchExpressions ?? []).map((e) => e.key)];
}

async function get(client: KubeClient, path: string): Promise<any | undefined> {
  const res = await client.send('GET', path);
  if (res.status === 404) return undefined;
  if (res.status >= 400) throw new BadInputError(`bad input: GET ${path}: ${res.body?.message ?? res.status}`);
  return res.body;
}

/** Walk ownerReferences up to the top controller; returns the chain and the direct controller's selector. */
async function ownerChain(client: KubeClient, ns: string, pod: any): Promise<{ owners: PodFacts['owners']; controllerSelector?: Selector }> {
  const owners: PodFacts['owners'] = [];
  let controllerSelector: Selector | undefined;
  let current = pod;
  for (let depth = 0; depth < 4; depth++) {
    const ref = (current.metadata.ownerReferences ?? []).find((r: any) => r.controller) ?? current.metadata.ownerReferences?.[0];
    if (!ref) break;
    owners.push({ kind: ref.kind, name: ref.name, uid: ref.uid });
    const path = OWNER_PATHS[ref.kind];
    if (!path) break;
    const owner = await get(client, path(ns, ref.name));
    if (!owner) break;
    if (depth === 0) controllerSelector = owner.spec?.selector;
    current = owner;
  }
  return { owners, ...(controllerSelector ? { controllerSelector } : {}) };
}

async function podFacts(client: KubeClient, pod: any): Promise<PodFacts> {
  const ns = pod.metadata.namespace;
  const labels: Record<string, string> = pod.metadata.labels ?? {};
  const chain = await ownerChain(client, ns, pod);
  const [services, policies, pdbs] = await Promise.all([
    client.send('GET', `/api/v1/namespaces/${ns}/services`),
    client.send('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`),
    client.send('GET', `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`),
  ]);
  const matchingServices = (services.body.items ?? []).filter((s: any) => s.spec?.selector && Object.keys(s.spec.selector).length && selects({ matchLabels: s.spec.selector }, labels));
  const keys = new Set([...selectorKeys(chain.controllerSelector), ...matchingServices.flatMap((s: any) => Object.keys(s.spec.selector))]);
  return {
    namespace: ns,
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    resourceVersion: pod.metadata.resourceVersion,
    labels,
    annotations: pod.metadata.annotations ?? {},
    nodeName: pod.spec?.nodeName ?? null,
    containers: (pod.spec?.containers ?? []).map((c: any) => c.name),
    initContainers: (pod.spec?.initContainers ?? []).map((c: any) => c.name),
    owners: chain.owners,
    selectorKeys: [...keys].filter((k) => k in labels).sort(),
    services: matchingServices.map((s: any) => s.metadata.name).sort(),
    policies: (policies.body.items ?? []).filter((p: any) => selects(p.spec?.podSelector ?? {}, labels)).map((p: any) => p.metadata.name).sort(),
    pdbs: (pdbs.body.items ?? []).filter((p: any) => selects(p.spec?.selector, labels)).map((p: any) => p.metadata.name).sort(),
  };
}

function nodeFacts(node: any): NodeFacts {
  const providerID: string | null = node.spec?.providerID ?? null;
  const instanceId = providerID && /^aws:\/\//.test(providerID) ? (/(i-[0-9a-f]+)$/.exec(providerID)?.[1] ?? null) : null;
  return { name: node.metadata.name, uid: node.metadata.uid, unschedulable: Boolean(node.spec?.unschedulable), providerID, instanceId };
}

export async function discoverKube(params: KubeParams, ctx: ProviderContext): Promise<KubeFacts> {
  const client = kubeClientFor(ctx);
  const problems: string[] = [];
  const raw = new Map<string, any>();
  for (const ref of params.pods) {
    const [ns, name] = ref.split('/') as [string, string];
    const pod = await get(client, `/api/v1/namespaces/${ns}/pods/${name}`);
    if (!pod) problems.push(`--pod ${ref}: no such pod`);
    else raw.set(pod.metadata.uid, pod);
  }
  for (const s of params.podSelectors) {
    const [ns, labels] = s.split(':') as [string, string];
    const res = await client.send('GET', `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: labels } });
    const items = res.body.items ?? [];
    if (!items.length) problems.push(`--pod-selector ${s}: no pod matches`);
    for (const p of items) raw.set(p.metadata.uid, p);
  }
  const nodeNames = new Set(params.nodes);
  const explicitNodes: NodeFacts[] = [];
  for (const name of params.nodes) {
    const node = await get(client, `/api/v1/nodes/${name}`);
    if (!node) problems.push(`--node ${name}: no such node`);
    else explicitNodes.push(nodeFacts(node));
  }
  if (problems.length) throw new BadInputError(`bad input: ${problems[0]}`, { details: problems.slice(1) });
  const pods = await Promise.all([...raw.values()].map((p) => podFacts(client, p)));
  const nodes = [...explicitNodes];
  for (const name of new Set(pods.map((p) => p.nodeName).filter((n): n is string => Boolean(n)))) {
    if (nodeNames.has(name)) continue;
    const node = await get(client, `/api/v1/nodes/${name}`);
    if (node) nodes.push(nodeFacts(node));
  }
  pods.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  nodes.sort((a, b) => a.name.localeCompare(b.name));
  return { params, pods, nodes };
}
