/** Issue 5 through the CLI against a real kube-apiserver: quarantine, not kill; as a user bound only to our ClusterRole. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type KubeServer } from '../support/kube.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';
import { executePlan, planCapture, type Provider } from '../../src/index.js';
import { createKubeClient, rbacOf } from '../../providers/kubernetes/client.js';
import { kubernetesProvider } from '../../providers/kubernetes/index.js';

const ROLE = parseYaml(readFileSync(new URL('../../policies/kubernetes/capture-role.yaml', import.meta.url), 'utf8'));
let kube: KubeServer;
let cwd: string;
/** kubeconfig of the service account bound only to our ClusterRole. */
let toolKubeconfig: string;

async function ok(method: string, path: string, body?: unknown, contentType?: string) {
  const res = await kube.call(method, path, body, 'admin', contentType);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body;
}

/** A Deployment → ReplicaSet → Pod chain behind a Service, played by the test (no controllers run). */
async function seedWorkload(ns: string, node: string) {
  await ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  const labels = { app: 'web', 'pod-template-hash': '5d4f', tier: 'frontend' };
  const template = { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx' }] } };
  const dep = await ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, { metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template } });
  const rs = await ok('POST', `/apis/apps/v1/namespaces/${ns}/replicasets`, {
    metadata: { name: 'web-5d4f', labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: dep.metadata.uid, controller: true }] },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f' } }, template },
  });
  const pod = await ok('POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: { name: 'web-5d4f-x7k2p', labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d4f', uid: rs.metadata.uid, controller: true }] },
    spec: { nodeName: node, initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'app', image: 'nginx' }] },
  });
  await ok('PATCH', `/api/v1/namespaces/${ns}/pods/web-5d4f-x7k2p/status`, { status: { phase: 'Running' } }, 'application/merge-patch+json');
  await ok('POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
  await ok('POST', `/api/v1/namespaces/${ns}/events`, {
    metadata: { name: 'web-5d4f-x7k2p.suspicious' },
    involvedObject: { kind: 'Pod', namespace: ns, name: 'web-5d4f-x7k2p', uid: pod.metadata.uid },
    reason: 'Suspicious',
    message: 'outbound connection to a mining pool',
    type: 'Warning',
  });
  return pod;
}

async function resourceVersions(ns: string, node: string, incident: string) {
  const get = async (p: string) => (await kube.call('GET', p)).body?.metadata?.resourceVersion ?? 'absent';
  const name = `holdfast-${incident.toLowerCase()}-web-5d4f-x7k2p`;
  return {
    pod: await get(`/api/v1/namespaces/${ns}/pods/web-5d4f-x7k2p`),
    node: await get(`/api/v1/nodes/${node}`),
    policy: await get(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${name}`),
    pdb: await get(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${name}`),
  };
}

beforeAll(async () => {
  kube = await startKube();
  cwd = mkdtempSync(join(tmpdir(), 'hf-k8s-'));
  await ok('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', ROLE);
  // The tool runs as a service account bound only to the shipped ClusterRole, as a daemon would.
  await ok('POST', '/api/v1/namespaces', { metadata: { name: 'holdfast-system' } });
  await ok('POST', '/api/v1/namespaces/holdfast-system/serviceaccounts', { metadata: { name: 'holdfast' } });
  await ok('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: 'holdfast-capture' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'holdfast-capture' },
    subjects: [{ kind: 'ServiceAccount', name: 'holdfast', namespace: 'holdfast-system' }],
  });
  const token = await ok('POST', '/api/v1/namespaces/holdfast-system/serviceaccounts/holdfast/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
  toolKubeconfig = kube.kubeconfigForToken('holdfast-sa', token.status.token);
}, 300_000);

afterAll(async () => {
  await kube?.stop();
});

describe('Kubernetes quarantine through the CLI (real kube-apiserver, as a service account bound only to our ClusterRole)', () => {
  const ns = `shop-${Math.random().toString(16).slice(2, 8)}`;
  const node = `${ns}-node`;
  const incident = testIncident('K8S');
  let podUid: string;
  const capture = (...extra: string[]) =>
    runCli(['capture', '--incident', incident, '--pod', `${ns}/web-5d4f-x7k2p`, '--forensic-cidr', '198.51.100.30/32', '--kubeconfig', toolKubeconfig, '--store', 'es', '--json', ...extra], { cwd, env: motoEnv() });

  beforeAll(async () => {
    await ok('POST', '/api/v1/nodes', { metadata: { name: node, labels: { 'kubernetes.io/hostname': node } }, spec: { providerID: 'aws:///us-east-1a/i-0abc1234def567890' } });
    podUid = (await seedWorkload(ns, node)).metadata.uid;
  });

  it('--dry-run as the tool user changes no resourceVersion and proves every permission', async () => {
    const before = await resourceVersions(ns, node, incident);
    const res = await capture('--dry-run');
    expect(res.code).toBe(0);
    const checks = res.lines.filter((l) => l.type === 'preflight.result').flatMap((l) => (l.result as { checks: { action: string; allowed: unknown }[] }).checks);
    expect(checks.map((c) => c.action)).toEqual(expect.arrayContaining(['k8s:create networkpolicies', 'k8s:create poddisruptionbudgets', 'k8s:patch pods', 'k8s:patch nodes']));
    expect(checks.filter((c) => c.allowed === false)).toEqual([]);
    expect(await resourceVersions(ns, node, incident)).toEqual(before);
  });

  it('removing one verb from the role makes --dry-run exit 3 naming exactly that permission', async () => {
    const reduced = structuredClone(ROLE);
    reduced.rules = reduced.rules.map((r: { resources: string[]; verbs: string[] }) => (r.resources.includes('networkpolicies') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : r));
    const current = (await kube.call('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/holdfast-capture')).body;
    await ok('PUT', '/apis/rbac.authorization.k8s.io/v1/clusterroles/holdfast-capture', { ...reduced, metadata: { ...reduced.metadata, resourceVersion: current.metadata.resourceVersion } });
    try {
      const res = await capture('--dry-run');
      expect(res.code).toBe(3);
      const denied = res.lines.filter((l) => l.type === 'preflight.result').flatMap((l) => (l.result as { checks: { action: string; allowed: unknown; policyFile: string }[] }).checks).filter((c) => c.allowed === false);
      expect(denied.map((c) => c.action)).toEqual(['k8s:create networkpolicies']);
      expect(denied[0]!.policyFile).toBe('policies/kubernetes/capture-role.yaml');
      expect(res.stderr).toContain('permission missing');
    } finally {
      const now = (await kube.call('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/holdfast-capture')).body;
      await ok('PUT', '/apis/rbac.authorization.k8s.io/v1/clusterroles/holdfast-capture', { ...ROLE, metadata: { ...ROLE.metadata, resourceVersion: now.metadata.resourceVersion } });
    }
  });

  it('keeps the pod (same uid), takes it out of its ReplicaSet and Service, isolates and protects it, cordons its node', async () => {
    const res = await capture();
    expect(res.stderr).toContain('capture complete');
    expect(res.code).toBe(0);
    const pod = (await kube.call('GET', `/api/v1/namespaces/${ns}/pods/web-5d4f-x7k2p`)).body;
    expect(pod.metadata.uid).toBe(podUid);
    expect(pod.metadata.labels).toEqual({ tier: 'frontend', 'holdfast.io/quarantine': incident });
    expect(pod.metadata.annotations).toMatchObject({ 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false', 'karpenter.sh/do-not-disrupt': 'true' });
    const rs = (await kube.call('GET', `/apis/apps/v1/namespaces/${ns}/replicasets/web-5d4f`)).body;
    const svc = (await kube.call('GET', `/api/v1/namespaces/${ns}/services/web`)).body;
    const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => pod.metadata.labels[k] === v);
    expect(matches(rs.spec.selector.matchLabels)).toBe(false);
    expect(matches(svc.spec.selector)).toBe(false);

    const name = `holdfast-${incident.toLowerCase()}-web-5d4f-x7k2p`;
    const policy = (await kube.call('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${name}`)).body;
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.podSelector.matchLabels).toEqual({ 'holdfast.io/quarantine': incident });
    expect(policy.spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: '198.51.100.30/32' } }] }]);
    expect(policy.spec.egress ?? []).toEqual([]);
    const pdb = (await kube.call('GET', `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${name}`)).body;
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual({ 'holdfast.io/quarantine': incident });
    const n = (await kube.call('GET', `/api/v1/nodes/${node}`)).body;
    expect(n.spec.unschedulable).toBe(true);
    expect(n.spec.taints ?? []).not.toContainEqual(expect.objectContaining({ effect: 'NoExecute' }));

    const outcome = res.lines.at(-1) as { manifest: { artifacts: { id: string; sha256?: string }[]; limitations: string[] } };
    const ids = outcome.manifest.artifacts.map((a) => a.id.split('/').at(-1));
    expect(ids).toEqual(expect.arrayContaining(['pod.json', 'owners.json', 'node.json', 'services.json', 'policies.json', 'events.json']));
    expect(outcome.manifest.limitations.join('\n')).toMatch(/logs of .* container init could not be read/);
    expect(outcome.manifest.limitations.join('\n')).toMatch(/EKS VPC CNI/);
    const events = JSON.parse(readFileSync(join(cwd, 'es', incident, 'artifacts', `kubernetes_collect_${ns}_web-5d4f-x7k2p`, 'events.json'), 'utf8'));
    expect(events[0].message).toBe('outbound connection to a mining pool');
    expect((await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env: motoEnv() })).code).toBe(0);
  });

  it('--checkpoint asks the kubelet and records the refusal honestly (no kubelet here)', async () => {
    const res = await runCli(
      ['capture', '--incident', testIncident('CKPT'), '--pod', `${ns}/web-5d4f-x7k2p`, '--checkpoint', '--no-contain', '--kubeconfig', kube.kubeconfigPath('admin'), '--store', 'es', '--json'],
      { cwd, env: motoEnv() },
    );
    expect(res.code).toBe(0);
    const manifest = (res.lines.at(-1) as { manifest: { limitations: string[]; steps: { id: string; status: string }[] } }).manifest;
    expect(manifest.steps.find((s) => s.id.startsWith('kubernetes:checkpoint/'))?.status).toBe('done');
    expect(manifest.limitations.join('\n')).toMatch(new RegExp(`checkpoint of ${ns}/web-5d4f-x7k2p/app (refused|failed)`));
  });

  it('a re-run (another machine) changes nothing', async () => {
    const before = await resourceVersions(ns, node, incident);
    const res = await capture('--state-dir', 'other-host');
    expect(res.code).toBe(0);
    expect(await resourceVersions(ns, node, incident)).toEqual(before);
  });

  it('release restores the labels and uncordons; the NetworkPolicy and PDB stay', async () => {
    const res = await runCli(['release', '--incident', incident, '--approve'], { cwd, env: motoEnv({ KUBECONFIG: toolKubeconfig }) });
    expect(res.code).toBe(0);
    const pod = (await kube.call('GET', `/api/v1/namespaces/${ns}/pods/web-5d4f-x7k2p`)).body;
    expect(pod.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': '5d4f', tier: 'frontend' });
    expect((await kube.call('GET', `/api/v1/nodes/${node}`)).body.spec.unschedulable ?? false).toBe(false);
    const v = await resourceVersions(ns, node, incident);
    expect(v.policy).not.toBe('absent');
    expect(v.pdb).not.toBe('absent');
  });
});

describe('policies/kubernetes/capture-role.yaml', () => {
  it('allows every request the provider sends and grants nothing destructive', async () => {
    const ns = `rbac-${Math.random().toString(16).slice(2, 8)}`;
    const node = `${ns}-node`;
    await ok('POST', '/api/v1/nodes', { metadata: { name: node } });
    await seedWorkload(ns, node);
    const client = createKubeClient({ kubeconfig: toolKubeconfig, env: {} });
    const sent = new Set<string>();
    client.onRequest = (method, path) => {
      const { verb, resource } = rbacOf(method, path);
      sent.add(`${verb} ${resource}`);
    };
    const providers = [kubernetesProvider as unknown as Provider];
    const dir = mkdtempSync(join(tmpdir(), 'hf-rbac-'));
    const input = { incident: testIncident('RBAC'), forensicCidrs: ['198.51.100.31/32'], store: join(dir, 'es'), targets: { kubernetes: { pods: [`${ns}/web-5d4f-x7k2p`], podSelectors: [`${ns}:tier=frontend`], nodes: [node] } } };
    const plan = await planCapture(input, { providers, clients: { kubernetes: client } });
    await executePlan(plan, { providers, clients: { kubernetes: client }, stateDir: dir, dryRun: true });
    const outcome = await executePlan(plan, { providers, clients: { kubernetes: client }, stateDir: dir });
    expect(outcome.failures).toEqual([]);
    const allowed = new Set<string>();
    for (const rule of ROLE.rules as { resources: string[]; verbs: string[] }[]) for (const r of rule.resources) for (const v of rule.verbs) allowed.add(`${v} ${r}`);
    for (const request of sent) expect(allowed.has(request), request).toBe(true);
    // Owner kinds this fixture does not have (its pod is owned by a ReplicaSet of a Deployment).
    const otherOwnerKinds = ['get statefulsets', 'get daemonsets', 'get jobs', 'get cronjobs'];
    for (const grant of allowed) if (!otherOwnerKinds.includes(grant)) expect(sent.has(grant), `granted but never used: ${grant}`).toBe(true);
    for (const grant of allowed) expect(grant).not.toMatch(/^(delete|deletecollection|escalate|bind|impersonate) |eviction|exec/);
  });
});

describe('--isolate-node (EKS)', () => {
  it("maps the node's providerID to its EC2 instance and plans the EC2 provider's preserve, snapshot and isolate for it", async () => {
    const { seedAws } = await import('../../src/drill/seed-aws.js');
    const { inject } = await import('vitest');
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const ns = `eks-${Math.random().toString(16).slice(2, 8)}`;
    const node = `${ns}-node`;
    await ok('POST', '/api/v1/nodes', { metadata: { name: node }, spec: { providerID: `aws:///us-east-1a/${seeded.instanceId}` } });
    await seedWorkload(ns, node);
    const cwd2 = mkdtempSync(join(tmpdir(), 'hf-eks-'));
    const res = await runCli(
      ['plan', '--incident', testIncident('EKS'), '--pod', `${ns}/web-5d4f-x7k2p`, '--isolate-node', '--kubeconfig', kube.kubeconfigPath('admin'), '--store', 'es', '--json', '--no-preflight'],
      { cwd: cwd2, env: motoEnv() },
    );
    expect(res.code).toBe(0);
    const plan = (res.lines.find((l) => l.type === 'plan') as { plan: { steps: { id: string }[] } }).plan;
    const ids = plan.steps.map((s) => s.id);
    for (const s of ['snapshot', 'protect', 'isolate']) expect(ids).toContain(`ec2:${s}/${seeded.instanceId}`);
    expect(ids).toContain(`kubernetes:cordon/${node}`);
  });
});
