/** Read-only discovery: pods, their owner chain, node, and the Services, NetworkPolicies and PDBs that select them. */
import { BadInputError, PermissionError, RemoteError, type InputProblem } from '../../src/core/errors.js';
import type { ProviderContext, RunScope } from '../../src/core/types.js';
import {
  ALL_SERVICE_ACCOUNTS_PATH,
  networkPoliciesPath,
  nodePath,
  OWNER_PATHS,
  pdbsPath,
  podPath,
  podsPath,
  servicesPath,
} from './api-paths.js';
import {
  messageOf,
  type KubeClient,
  type KubeList,
  type KubernetesObject,
  type V1LabelSelector,
  type V1NetworkPolicy,
  type V1Node,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1Service,
  type V1ServiceAccount,
} from './client.js';
import { kubeClientFor } from './context.js';
import {
  type HoldingSelector,
  type KubeFacts,
  type KubeParams,
  type LabelSelector,
  type NodeFacts,
  type OwnerFacts,
  type PodFacts,
  type PolicyFacts,
  type ServiceAccountRole,
} from './facts.js';
import { selects } from './selectors.js';

/** Owner references followed at most (Pod → ReplicaSet → Deployment, Pod → Job → CronJob). */
const MAX_OWNER_DEPTH = 4;

/** An owner up the chain (ReplicaSet, Deployment, Job…): only its selector is read. */
export type OwnerObject = KubernetesObject & { spec?: { selector?: V1LabelSelector } };

/** GET an object of the type `T` the path names; undefined when it does not exist. */
export async function getObject<T extends KubernetesObject = KubernetesObject>(
  client: KubeClient,
  path: string,
): Promise<T | undefined> {
  const res = await client.send<T>('GET', path);
  if (res.status === 404) return undefined;
  if (res.status >= 400) throw new RemoteError(`GET ${path}: ${res.status} ${messageOf(res) ?? ''}`.trim(), false);
  return res.body;
}

/** The live pod, refusing a different pod that took the name since planning. */
export async function livePod(client: KubeClient, pod: Pick<PodFacts, 'namespace' | 'name' | 'uid'>): Promise<V1Pod> {
  const live = await getObject<V1Pod>(client, podPath(pod.namespace, pod.name));
  if (!live) throw new RemoteError(`${pod.namespace}/${pod.name} no longer exists`, false);
  if (live.metadata?.uid !== pod.uid)
    throw new RemoteError(
      `${pod.namespace}/${pod.name} is a different pod now (uid ${live.metadata?.uid}, planned ${pod.uid}): plan again`,
      false,
    );
  return live;
}

/** LIST a collection's items, of the type `T` the path names. */
export async function listObjects<T extends KubernetesObject>(
  client: KubeClient,
  path: string,
  query?: Record<string, string>,
): Promise<T[]> {
  const res = await client.send<KubeList<T>>('GET', path, query ? { query } : {});
  if (res.status >= 400) throw new RemoteError(`GET ${path}: ${res.status} ${messageOf(res) ?? ''}`.trim(), false);
  return res.body?.items ?? [];
}

/** One resource of an API discovery answer. */
type ApiResource = { name: string; kind: string; namespaced: boolean };

/**
 * Where objects of `kind` in `apiVersion` live, through API discovery (`/api/v1`, `/apis/<group>/<version>`),
 * so any owner kind — custom resources included — is followed, not only the built-in controllers.
 */
export async function ownerPathOf(
  client: KubeClient,
  run: RunScope,
  apiVersion: string | undefined,
  kind: string,
  ns: string,
  name: string,
): Promise<string | null> {
  const builtin = OWNER_PATHS[kind];
  if (!apiVersion) return builtin ? builtin(ns, name) : null;
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  // Resources served per group/version, as API discovery lists them: read once per run.
  const byClient = run.memo('kubernetes:served', () => new Map<string, Promise<ApiResource[]>>());
  let list = byClient.get(base);
  if (!list) {
    list = client
      .send<{ resources?: ApiResource[] }>('GET', base)
      .then((res) => (res.status === 200 ? (res.body?.resources ?? []) : []));
    byClient.set(base, list);
  }
  const resource = (await list).find((r) => r.kind === kind && !String(r.name).includes('/') && r.namespaced);
  return resource ? `${base}/namespaces/${ns}/${resource.name}/${name}` : null;
}

/** Whether a value is a label selector holdfast can evaluate (matchLabels / matchExpressions only). */
function isLabelSelector(v: unknown): v is LabelSelector {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const known = Object.keys(o).every((k) => k === 'matchLabels' || k === 'matchExpressions');
  return (
    known &&
    (o.matchLabels === undefined || (typeof o.matchLabels === 'object' && !Array.isArray(o.matchLabels))) &&
    (o.matchExpressions === undefined || Array.isArray(o.matchExpressions))
  );
}

/** Walk ownerReferences up to the top controller; the direct controller's selector holds the pod. */
async function ownerChain(
  client: KubeClient,
  run: RunScope,
  ns: string,
  pod: V1Pod,
): Promise<{ owners: OwnerFacts[]; controller?: HoldingSelector; controllerSelectorReadable: boolean }> {
  const owners: OwnerFacts[] = [];
  let controller: HoldingSelector | undefined;
  let controllerSelectorReadable = true;
  let current: KubernetesObject = pod;
  for (let depth = 0; depth < MAX_OWNER_DEPTH; depth++) {
    const refs = current.metadata?.ownerReferences ?? [];
    const ref = refs.find((r) => r.controller) ?? refs[0];
    if (!ref) break;
    const path = ref.kind === 'Node' ? null : await ownerPathOf(client, run, ref.apiVersion, ref.kind, ns, ref.name);
    const facts: OwnerFacts = {
      kind: ref.kind,
      name: ref.name,
      uid: ref.uid,
      ...(ref.apiVersion ? { apiVersion: ref.apiVersion } : {}),
      path,
      controller: Boolean(ref.controller),
    };
    owners.push(facts);
    let owner: OwnerObject | undefined;
    if (path) {
      try {
        owner = await getObject<OwnerObject>(client, path);
      } catch (error) {
        // Built-in kinds are in the role: a refusal there is a missing permission. A custom kind may
        // not be (its rule is the responder's to add): the pod is still taken out, by its ownerReference.
        if (!(error instanceof PermissionError) || OWNER_PATHS[ref.kind]) throw error;
        facts.unreadable = error.message;
      }
    } else facts.unreadable = `no namespaced resource of kind ${ref.kind} is served in ${ref.apiVersion ?? 'v1'}`;
    if (depth === 0 && ref.controller && ref.kind !== 'Node') {
      if (owner && isLabelSelector(owner.spec?.selector))
        controller = { source: `${ref.kind} ${ref.name}`, selector: owner.spec.selector as LabelSelector };
      else controllerSelectorReadable = false;
    }
    if (!owner) break;
    current = owner;
  }
  return { owners, ...(controller ? { controller } : {}), controllerSelectorReadable };
}

function policyFacts(p: V1NetworkPolicy): PolicyFacts {
  const types = p.spec?.policyTypes ?? ['Ingress'];
  const rules = [
    ...(types.includes('Ingress') ? (p.spec?.ingress ?? []) : []),
    ...(types.includes('Egress') ? (p.spec?.egress ?? []) : []),
  ];
  return { name: p.metadata?.name ?? '', podSelector: p.spec?.podSelector ?? {}, allows: rules.length > 0 };
}

async function podFacts(client: KubeClient, run: RunScope, pod: V1Pod): Promise<PodFacts> {
  const meta = pod.metadata ?? {};
  const ns = meta.namespace ?? '';
  const labels = meta.labels ?? {};
  const [chain, services, policies, pdbs] = await Promise.all([
    ownerChain(client, run, ns, pod),
    listObjects<V1Service>(client, servicesPath(ns)),
    listObjects<V1NetworkPolicy>(client, networkPoliciesPath(ns)),
    listObjects<V1PodDisruptionBudget>(client, pdbsPath(ns)),
  ]);
  // A Service without a selector has hand-made endpoints: relabelling cannot take the pod out of it.
  const matching = services.flatMap((s) => {
    const selector = s.spec?.selector;
    return selector && Object.keys(selector).length && selects({ matchLabels: selector }, labels)
      ? [{ name: s.metadata?.name ?? '', selector }]
      : [];
  });
  const holding: HoldingSelector[] = [
    ...(chain.controller && selects(chain.controller.selector, labels) ? [chain.controller] : []),
    ...matching.map((s) => ({ source: `Service ${s.name}`, selector: { matchLabels: s.selector } })),
  ];
  return {
    namespace: ns,
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    resourceVersion: meta.resourceVersion ?? '',
    labels,
    annotations: meta.annotations ?? {},
    nodeName: pod.spec?.nodeName ?? null,
    containers: (pod.spec?.containers ?? []).map((c) => c.name),
    initContainers: (pod.spec?.initContainers ?? []).map((c) => c.name),
    owners: chain.owners,
    hostNetwork: Boolean(pod.spec?.hostNetwork),
    controllerSelectorReadable: chain.controllerSelectorReadable,
    holdingSelectors: holding,
    services: matching.map((s) => s.name).sort(),
    policies: policies
      .filter((p) => selects(p.spec?.podSelector ?? {}, labels))
      .map(policyFacts)
      .sort((a, b) => a.name.localeCompare(b.name)),
    // policy/v1: a null selector selects no pod, an empty one every pod.
    pdbs: pdbs
      .filter((p) => selects(p.spec?.selector, labels))
      .map((p) => p.metadata?.name ?? '')
      .sort(),
  };
}

/** The node's facts; its providerID names its machine, which another provider may recognise. */
export function nodeFacts(node: V1Node): NodeFacts {
  return {
    name: node.metadata?.name ?? '',
    uid: node.metadata?.uid ?? '',
    unschedulable: Boolean(node.spec?.unschedulable),
    providerID: node.spec?.providerID ?? null,
  };
}

export async function discoverKube(params: KubeParams, ctx: ProviderContext): Promise<KubeFacts> {
  const client = kubeClientFor(ctx);
  const problems: InputProblem[] = [];
  const raw = new Map<string | undefined, V1Pod>();
  // Problems name the case path; indices count the validated case's lists.
  const missing = (field: string, message: string) => problems.push({ field, message, continues: true });
  for (const [i, ref] of params.pods.entries()) {
    const [ns, name] = ref.split('/') as [string, string];
    const pod = await getObject<V1Pod>(client, podPath(ns, name));
    if (!pod) missing(`targets.kubernetes.pods[${i}]`, `${ref}: no such pod`);
    else raw.set(pod.metadata?.uid, pod);
  }
  for (const [i, s] of params.podSelectors.entries()) {
    const [ns, labels] = s.split(':') as [string, string];
    const items = await listObjects<V1Pod>(client, podsPath(ns), { labelSelector: labels });
    if (!items.length) missing(`targets.kubernetes.podSelectors[${i}]`, `${s}: no pod matches`);
    for (const p of items) raw.set(p.metadata?.uid, p);
  }
  const nodes = new Map<string, NodeFacts>();
  for (const [i, name] of params.nodes.entries()) {
    const node = await getObject<V1Node>(client, nodePath(name));
    if (!node) missing(`targets.kubernetes.nodes[${i}]`, `${name}: no such node`);
    else nodes.set(name, nodeFacts(node));
  }
  if (problems.length) throw new BadInputError(problems);
  const pods = await Promise.all([...raw.values()].map((p) => podFacts(client, ctx.run, p)));
  for (const name of new Set(pods.map((p) => p.nodeName).filter((n): n is string => Boolean(n)))) {
    if (nodes.has(name)) continue;
    const node = await getObject<V1Node>(client, nodePath(name));
    if (node) nodes.set(name, nodeFacts(node));
  }
  pods.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const facts: KubeFacts = { params, pods, nodes: [...nodes.values()].sort((a, b) => a.name.localeCompare(b.name)) };
  // Service accounts are read only when a provider asks for the roles they name (iam's
  // --revoke-pod-roles): listing them cluster-wide needs irsa-role.yaml, which a capture without it
  // should not have to grant.
  const annotations = ctx.roleAnnotations ?? [];
  return annotations.length ? withRoles(client, facts, [...raw.values()], annotations) : facts;
}

/** Each pod's service account, and every service account whose annotations name a role (who else holds it). */
async function withRoles(
  client: KubeClient,
  facts: KubeFacts,
  raw: V1Pod[],
  annotations: readonly string[],
): Promise<KubeFacts> {
  const accounts = await listObjects<V1ServiceAccount>(client, ALL_SERVICE_ACCOUNTS_PATH);
  const serviceAccountRoles: ServiceAccountRole[] = accounts
    .flatMap((sa) =>
      annotations.flatMap((annotation) => {
        const role = sa.metadata?.annotations?.[annotation];
        return role ? [{ serviceAccount: `${sa.metadata?.namespace}/${sa.metadata?.name}`, annotation, role }] : [];
      }),
    )
    .sort((a, b) => `${a.serviceAccount}=${a.role}`.localeCompare(`${b.serviceAccount}=${b.role}`));
  const pods = facts.pods.map((p) => {
    const pod = raw.find((r) => r.metadata?.uid === p.uid);
    return { ...p, serviceAccount: pod?.spec?.serviceAccountName || 'default' };
  });
  return { ...facts, pods, serviceAccountRoles };
}
