/**
 * Kubernetes test fixtures: one real kube-apiserver per test file (started in beforeAll; a server
 * that cannot start fails the file, it never skips), a service account bound only to the shipped
 * roles, and workloads played by the test — no controllers or kubelet run, as in envtest — or, with
 * `{ controllers: true }`, the real kube-controller-manager plus a scheduler/kubelet stand-in.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startKube, type KubeServer } from './kube.js';
import { startKubeBinder, type KubeBinder } from '../../src/emulators/kube-binder.js';
import { createKubeClient } from '../../providers/kubernetes/client.js';

/** Seconds to start etcd + kube-apiserver (cold disks are slow). */
const START_TIMEOUT_MS = 300_000;
/** RBAC changes reach the authorizer through an informer: wait this long at most. */
const RBAC_PROPAGATION_TIMEOUT_MS = 10_000;
export const MERGE = 'application/merge-patch+json';

/** A parsed Role rule. */
export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
export interface ClusterRole {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  rules: Rule[];
}

export function readRole(file: 'capture-role.yaml' | 'checkpoint-role.yaml' | 'irsa-role.yaml'): ClusterRole {
  return parseYaml(readFileSync(new URL(`../../policies/kubernetes/${file}`, import.meta.url), 'utf8'));
}

/** Every `group/resource verb` a role grants, e.g. `apps/replicasets get`, `/pods patch`. */
export function grantsOf(...roles: ClusterRole[]): Set<string> {
  const out = new Set<string>();
  for (const role of roles)
    for (const r of role.rules)
      for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${g}/${res} ${v}`);
  return out;
}

/** Start a real API server for this test file; the getter throws if it is used before start-up. */
export function useKubeServer(options: { controllers?: boolean } = {}): () => KubeServer {
  let kube: KubeServer | undefined;
  let binder: KubeBinder | undefined;
  beforeAll(async () => {
    kube = await startKube(options);
    if (options.controllers) binder = startKubeBinder(kube);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await binder?.stop();
    await kube?.stop();
  });
  return () => {
    if (!kube) throw new Error('the kube-apiserver did not start (see beforeAll)');
    return kube;
  };
}

/** An admin call that must succeed. */
export async function ok(
  kube: KubeServer,
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
): Promise<any> {
  const res = await kube.call(method, path, body, 'admin', contentType);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body;
}

/** Create or replace a ClusterRole (as the admin). */
export async function putClusterRole(kube: KubeServer, role: ClusterRole): Promise<void> {
  const path = `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role.metadata.name}`;
  const current = await kube.call('GET', path);
  if (current.status === 404) await ok(kube, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', role);
  else
    await ok(kube, 'PUT', path, {
      ...role,
      metadata: { ...role.metadata, resourceVersion: current.body.metadata.resourceVersion },
    });
}

/**
 * A service account bound only to `roles` (created here), as a daemon in the cluster would run;
 * returns a kubeconfig with its token (TokenRequest).
 */
export async function serviceAccountKubeconfig(kube: KubeServer, name: string, roles: ClusterRole[]): Promise<string> {
  const ns = 'holdfast-system';
  if ((await kube.call('GET', `/api/v1/namespaces/${ns}`)).status === 404)
    await ok(kube, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
  await ok(kube, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name } });
  for (const role of roles) {
    await putClusterRole(kube, role);
    await ok(kube, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: `${name}-${role.metadata.name}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
    });
  }
  const token = await ok(kube, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  return kube.kubeconfigForToken(name, token.status.token);
}

/** Wait until the authorizer answers `allowed` for this permission, as the kubeconfig's user. */
export async function waitForPermission(
  kubeconfig: string,
  grant: { group: string; resource: string; verb: string },
  allowed: boolean,
): Promise<void> {
  const client = createKubeClient({ kubeconfig, env: {} });
  const [resource, subresource] = grant.resource.split('/');
  const deadline = Date.now() + RBAC_PROPAGATION_TIMEOUT_MS;
  for (;;) {
    const res = await client.send<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              group: grant.group,
              resource,
              ...(subresource ? { subresource } : {}),
              verb: grant.verb,
              namespace: 'default',
            },
          },
        },
      },
    );
    if (res.body?.status?.allowed === allowed) return;
    if (Date.now() > deadline)
      throw new Error(`RBAC did not settle: ${grant.verb} ${grant.group}/${grant.resource} still ${!allowed}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function seedNode(kube: KubeServer, name: string, providerID?: string): Promise<any> {
  return ok(kube, 'POST', '/api/v1/nodes', {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    ...(providerID ? { spec: { providerID } } : {}),
  });
}

export async function seedNamespace(kube: KubeServer, ns: string): Promise<void> {
  await ok(kube, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
}

/**
 * A running pod as a kubelet would report it: init container done, app container restarted once
 * (so it has a previous log), both written through the status subresource.
 */
export async function seedPod(
  kube: KubeServer,
  ns: string,
  name: string,
  spec: {
    node: string;
    labels: Record<string, string>;
    owner?: { kind: string; name: string; uid: string; apiVersion: string };
  },
): Promise<any> {
  const pod = await ok(kube, 'POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: {
      name,
      labels: spec.labels,
      ...(spec.owner ? { ownerReferences: [{ ...spec.owner, controller: true }] } : {}),
    },
    spec: {
      nodeName: spec.node,
      initContainers: [{ name: 'init', image: 'busybox' }],
      containers: [{ name: 'app', image: 'nginx' }],
    },
  });
  await ok(
    kube,
    'PATCH',
    `/api/v1/namespaces/${ns}/pods/${name}/status`,
    {
      status: {
        phase: 'Running',
        initContainerStatuses: [
          {
            name: 'init',
            image: 'busybox',
            imageID: '',
            ready: true,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed' } },
          },
        ],
        containerStatuses: [
          {
            name: 'app',
            image: 'nginx',
            imageID: '',
            ready: true,
            restartCount: 1,
            state: { running: {} },
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
          },
        ],
      },
    },
    MERGE,
  );
  return pod;
}

/** A Deployment → ReplicaSet → Pod chain behind a Service, with an Event about the pod. */
export async function seedDeploymentPod(
  kube: KubeServer,
  ns: string,
  node: string,
  name = 'web-5d4f-x7k2p',
): Promise<{ pod: any; labels: Record<string, string> }> {
  const labels = { app: 'web', 'pod-template-hash': '5d4f', tier: 'frontend' };
  const template = { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx' }] } };
  const dep = (await kube.call('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`)).body;
  const deployment = dep?.metadata?.uid
    ? dep
    : await ok(kube, 'POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
        metadata: { name: 'web' },
        spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template },
      });
  const existingRs = (await kube.call('GET', `/apis/apps/v1/namespaces/${ns}/replicasets/web-5d4f`)).body;
  const rs = existingRs?.metadata?.uid
    ? existingRs
    : await ok(kube, 'POST', `/apis/apps/v1/namespaces/${ns}/replicasets`, {
        metadata: {
          name: 'web-5d4f',
          labels,
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: deployment.metadata.uid, controller: true },
          ],
        },
        spec: { replicas: 1, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f' } }, template },
      });
  const pod = await seedPod(kube, ns, name, {
    node,
    labels,
    owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d4f', uid: rs.metadata.uid },
  });
  if ((await kube.call('GET', `/api/v1/namespaces/${ns}/services/web`)).status === 404) {
    await ok(kube, 'POST', `/api/v1/namespaces/${ns}/services`, {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
  }
  await ok(kube, 'POST', `/api/v1/namespaces/${ns}/events`, {
    metadata: { name: `${name}.suspicious` },
    involvedObject: { kind: 'Pod', namespace: ns, name, uid: pod.metadata.uid },
    reason: 'Suspicious',
    message: 'outbound connection to a mining pool',
    type: 'Warning',
  });
  return { pod, labels };
}

/** resourceVersion of each path ('absent' when it does not exist). */
export async function resourceVersions(
  kube: KubeServer,
  paths: Record<string, string>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, p] of Object.entries(paths))
    out[k] = (await kube.call('GET', p)).body?.metadata?.resourceVersion ?? 'absent';
  return out;
}
