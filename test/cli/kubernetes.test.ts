/** Issue 5 through the CLI against a real kube-apiserver: quarantine, not kill; as a service account bound only to our ClusterRole. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli, type CliResult } from '../support/cli.js';
import {
  checkpointArchivePath,
  reportKubeletEndpoint,
  startKubeletStandIn,
  type KubeletStandIn,
} from '../support/kube.js';
import {
  MERGE,
  grantsOf,
  putClusterRole,
  readRole,
  resourceVersions,
  seedDeploymentPod,
  seedNamespace,
  seedNode,
  serviceAccountKubeconfig,
  useKubeServer,
  waitForPermission,
  type ClusterRole,
} from '../support/kubernetes.js';

const ROLE = readRole('capture-role.yaml');
const kube = useKubeServer();
let cwd: string;
/** kubeconfig of the service account bound only to our ClusterRole. */
let toolKubeconfig: string;

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'hf-k8s-'));
  toolKubeconfig = await serviceAccountKubeconfig(kube(), 'holdfast', [ROLE]);
});

type Check = { action: string; allowed: unknown; policyFile?: string; detail?: string };
const checksOf = (res: CliResult): Check[] =>
  res.lines.filter((l) => l.type === 'preflight.result').flatMap((l) => (l.result as { checks: Check[] }).checks);
const deniedOf = (res: CliResult) => [
  ...new Set(
    checksOf(res)
      .filter((c) => c.allowed === false)
      .map((c) => c.action),
  ),
];

describe('Kubernetes quarantine through the CLI (real kube-apiserver, as a service account bound only to our ClusterRole)', () => {
  const ns = `shop-${Math.random().toString(16).slice(2, 8)}`;
  const node = `${ns}-node`;
  const podName = 'web-5d4f-x7k2p';
  const incident = testIncident('K8S');
  const objectName = `holdfast-${incident.toLowerCase()}-${podName}`;
  let podUid: string;
  let originalLabels: Record<string, string>;
  const paths = () => ({
    pod: `/api/v1/namespaces/${ns}/pods/${podName}`,
    node: `/api/v1/nodes/${node}`,
    replicaSet: `/apis/apps/v1/namespaces/${ns}/replicasets/web-5d4f`,
    service: `/api/v1/namespaces/${ns}/services/web`,
    policy: `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${objectName}`,
    pdb: `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${objectName}`,
  });
  // --pod-selector names the same pod again: it is captured once, and `list pods` is exercised too.
  const capture = (extra: string[], store = 'es') =>
    runCli(
      [
        'capture',
        '--incident',
        incident,
        '--pod',
        `${ns}/${podName}`,
        '--pod-selector',
        `${ns}:tier=frontend`,
        '--forensic-cidr',
        '198.51.100.30/32',
        '--kubeconfig',
        toolKubeconfig,
        '--store',
        store,
        '--json',
        ...extra,
      ],
      { cwd, env: motoEnv() },
    );

  // Logs are raw bytes, not necessarily UTF-8: the invalid sequence must reach the store unchanged.
  const logs = {
    init: Buffer.from('2026-12-03T04:58:00Z fetched config from 203.0.113.9\n'),
    app: Buffer.concat([Buffer.from('2026-12-03T05:01:00Z GET /admin 200\n'), Buffer.from([0xff, 0xfe, 0x0a])]),
    previous: Buffer.from('2026-12-03T04:59:00Z xmrig started\n2026-12-03T05:00:00Z OOMKilled\n'),
  };
  let kubelet: KubeletStandIn;

  beforeAll(async () => {
    await seedNode(kube(), node, 'aws:///us-east-1a/i-0abc1234def567890');
    await seedNamespace(kube(), ns);
    const seeded = await seedDeploymentPod(kube(), ns, node, podName);
    podUid = seeded.pod.metadata.uid;
    originalLabels = seeded.labels;
    kubelet = await startKubeletStandIn(kube(), {
      [`${ns}/${podName}/init`]: logs.init,
      [`${ns}/${podName}/app`]: logs.app,
      [`${ns}/${podName}/app?previous`]: logs.previous,
    });
    await reportKubeletEndpoint(kube(), node, kubelet);
  });
  afterAll(() => kubelet?.stop());

  it('--dry-run as the tool user proves every permission with dryRun=All and changes no resourceVersion', async () => {
    const before = await resourceVersions(kube(), paths());
    const res = await capture(['--dry-run']);
    expect(res.stderr).not.toContain('permission missing');
    expect(res.code).toBe(0);
    const actions = checksOf(res).map((c) => c.action);
    for (const a of [
      'k8s:create networkpolicies',
      'k8s:create poddisruptionbudgets',
      'k8s:patch pods',
      'k8s:patch nodes',
      'k8s:get pods/log',
      'k8s:list events',
    ])
      expect(actions).toContain(a);
    expect(checksOf(res).filter((c) => c.allowed === false)).toEqual([]);
    expect(
      checksOf(res)
        .filter((c) => /dryRun=All/.test(c.detail ?? ''))
        .map((c) => c.action)
        .sort(),
    ).toEqual([
      'k8s:create networkpolicies',
      'k8s:create poddisruptionbudgets',
      'k8s:patch nodes',
      'k8s:patch pods',
      'k8s:patch pods',
    ]);
    expect(await resourceVersions(kube(), paths())).toEqual(before);
  });

  it('removing any one verb from the role makes --dry-run exit 3 naming exactly that permission', async () => {
    // Grants this capture uses (owner kinds it does not have are covered by the integration test;
    // the controller lists are release's, and Job suspension needs a Job owner: test/cli/kubernetes-controllers.test.ts).
    const unused = new Set([
      'apps/statefulsets get',
      'apps/daemonsets get',
      'batch/jobs get',
      'batch/cronjobs get',
      'apps/replicasets list',
      'apps/statefulsets list',
      'apps/daemonsets list',
      'batch/jobs list',
      'batch/jobs patch',
      'batch/cronjobs patch',
    ]);
    const grants = [...grantsOf(ROLE)].filter((g) => !unused.has(g));
    expect(grants.length).toBeGreaterThan(12);
    try {
      for (const grant of grants) {
        const [groupResource, verb] = grant.split(' ') as [string, string];
        const [group, resource] = [
          groupResource.slice(0, groupResource.indexOf('/')),
          groupResource.slice(groupResource.indexOf('/') + 1),
        ];
        const reduced: ClusterRole = structuredClone(ROLE);
        reduced.rules = reduced.rules.flatMap((r) => {
          if (!r.apiGroups.includes(group) || !r.resources.includes(resource)) return [r];
          const rest = r.resources.filter((x) => x !== resource);
          return [
            ...(rest.length ? [{ ...r, resources: rest }] : []),
            { ...r, resources: [resource], verbs: r.verbs.filter((v) => v !== verb) },
          ].filter((x) => x.verbs.length);
        });
        await putClusterRole(kube(), reduced);
        await waitForPermission(toolKubeconfig, { group, resource, verb }, false);
        const res = await capture(['--dry-run']);
        const action = `k8s:${verb} ${resource}`;
        expect(res.code, `${grant}: ${res.stderr}`).toBe(3);
        // Discovery reads come first: a missing one stops there, naming the permission; the rest show in preflight.
        const named = [
          ...deniedOf(res),
          ...[...res.stderr.matchAll(/permission missing: (k8s:\S+ \S+)/g)].map((m) => m[1]!),
        ];
        expect([...new Set(named)], grant).toEqual([action]);
        expect(res.stderr + JSON.stringify(checksOf(res)), grant).toContain('policies/kubernetes/capture-role.yaml');
      }
    } finally {
      await putClusterRole(kube(), ROLE);
      await waitForPermission(
        toolKubeconfig,
        { group: 'networking.k8s.io', resource: 'networkpolicies', verb: 'create' },
        true,
      );
    }
  }, 300_000);

  it('collects first, then keeps the pod (same uid) but isolated, out of its ReplicaSet and Service, protected; cordons its node', async () => {
    const res = await capture([]);
    expect(res.stderr).toContain('capture complete');
    expect(res.code).toBe(0);
    const pod = (await kube().call('GET', paths().pod)).body;
    expect(pod.metadata.uid).toBe(podUid);
    expect(pod.metadata.labels).toEqual({
      tier: 'frontend',
      'holdfast.io/quarantine': incident,
      'holdfast.io/quarantine-pod': podUid,
    });
    expect(pod.metadata.annotations).toMatchObject({
      'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false',
      'karpenter.sh/do-not-disrupt': 'true',
    });
    // The API server itself answers which pods each selector matches now.
    const rs = (await kube().call('GET', paths().replicaSet)).body;
    const svc = (await kube().call('GET', paths().service)).body;
    const matching = async (selector: Record<string, string>) =>
      (
        await kube().call(
          'GET',
          `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(
            Object.entries(selector)
              .map(([k, v]) => `${k}=${v}`)
              .join(','),
          )}`,
        )
      ).body.items.map((p: any) => p.metadata.uid);
    expect(await matching(rs.spec.selector.matchLabels)).toEqual([]);
    expect(await matching(svc.spec.selector)).toEqual([]);

    const policy = (await kube().call('GET', paths().policy)).body;
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(await matching(policy.spec.podSelector.matchLabels)).toEqual([podUid]);
    expect(policy.spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: '198.51.100.30/32' } }] }]);
    expect(policy.spec.egress ?? []).toEqual([]);
    const pdb = (await kube().call('GET', paths().pdb)).body;
    expect(pdb.spec.minAvailable).toBe(1);
    expect(await matching(pdb.spec.selector.matchLabels)).toEqual([podUid]);
    const n = (await kube().call('GET', paths().node)).body;
    expect(n.spec.unschedulable).toBe(true);
    expect(n.metadata.labels['holdfast.io/cordoned']).toBe(incident);
    expect(n.spec.taints ?? []).not.toContainEqual(expect.objectContaining({ effect: 'NoExecute' }));

    // Order: every artifact of the pod before its first change; then policy → labels → PDB → annotations → cordon.
    const events = res.lines.filter((l) => typeof l.seq === 'number');
    const firstChange = events.findIndex((e) => e.type === 'change.recorded');
    const podArtifacts = events.filter(
      (e) => e.type === 'artifact.recorded' && String(e.stepId).startsWith('kubernetes:collect/'),
    );
    expect(podArtifacts.every((e) => events.indexOf(e) < firstChange)).toBe(true);
    const order = events
      .filter((e) => e.type === 'change.recorded')
      .map((e) => {
        const c = e.change as { resource: string; attribute: string };
        return `${c.resource.split(':')[0]} ${c.attribute}`;
      });
    expect(order).toEqual([
      'networkpolicy created',
      'pod label:holdfast.io/quarantine',
      'pod label:holdfast.io/quarantine-pod',
      'pod label:app',
      'pod label:pod-template-hash',
      // No controller runs here to release the relabelled pod: holdfast removes the reference itself.
      `pod ownerReference:${rs.metadata.uid}`,
      'poddisruptionbudget created',
      'pod annotation:cluster-autoscaler.kubernetes.io/safe-to-evict',
      'pod annotation:karpenter.sh/do-not-disrupt',
      'node unschedulable',
      'node label:holdfast.io/cordoned',
      'node cordon-holder',
    ]);

    const outcome = res.lines.at(-1) as {
      manifest: {
        artifacts: { id: string; sha256?: string; location: { path?: string }; source: { uid?: string } }[];
        limitations: string[];
      };
    };
    const names = outcome.manifest.artifacts.map((a) => a.id.split('/').at(-1));
    expect(names).toEqual(
      expect.arrayContaining(['pod.json', 'owners.json', 'node.json', 'services.json', 'policies.json', 'events.json']),
    );
    for (const a of outcome.manifest.artifacts)
      expect(createHash('sha256').update(readFileSync(a.location.path!)).digest('hex'), a.id).toBe(a.sha256);
    const stored = (name: string) =>
      JSON.parse(
        readFileSync(
          outcome.manifest.artifacts.find((a) => a.id === `kubernetes:collect/${ns}/${podName}/${name}`)!.location
            .path!,
          'utf8',
        ),
      );
    expect(stored('events.json').map((e: any) => e.message)).toEqual(['outbound connection to a mining pool']);
    expect(stored('pod.json').metadata.labels).toEqual(originalLabels);
    expect(stored('owners.json').map((o: any) => o.kind)).toEqual(['ReplicaSet', 'Deployment']);
    expect(stored('services.json').map((s: any) => s.metadata.name)).toEqual(['web']);
    // Every log the pod has, through the API server's pods/log (the kubelet's last hop is played by the test).
    const limits = outcome.manifest.limitations.join('\n');
    expect(
      readFileSync(outcome.manifest.artifacts.find((a) => a.id.endsWith('/log-init.txt'))!.location.path!),
    ).toEqual(logs.init);
    expect(readFileSync(outcome.manifest.artifacts.find((a) => a.id.endsWith('/log-app.txt'))!.location.path!)).toEqual(
      logs.app,
    );
    expect(
      readFileSync(outcome.manifest.artifacts.find((a) => a.id.endsWith('/log-app-previous.txt'))!.location.path!),
    ).toEqual(logs.previous);
    // The init container never restarted: its previous log is not asked for.
    expect(kubelet.requests.filter((r) => r.includes('/init')).every((r) => !r.includes('previous'))).toBe(true);
    // (The dry run before read one byte of one log to prove pods/log is allowed.)
    expect(
      kubelet.requests.filter((r) => !r.includes('limitBytes=1')).every((r) => r.includes('timestamps=true')),
    ).toBe(true);
    expect(limits).not.toMatch(/log of .* could not be captured/);
    expect(limits).toContain('a log cut short by a failing node looks complete');
    expect(limits).toMatch(/EKS VPC CNI/);
    expect((await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env: motoEnv() })).code).toBe(0);
  });

  it('--checkpoint asks the kubelet through nodes/proxy: a refusal is a limitation, an archive is recorded where it lies', async () => {
    const checkpoint = (incident: string) =>
      runCli(
        [
          'capture',
          '--incident',
          incident,
          '--pod',
          `${ns}/${podName}`,
          '--checkpoint',
          '--no-contain',
          '--kubeconfig',
          kube().kubeconfigPath('admin'),
          '--store',
          'es',
          '--json',
        ],
        { cwd, env: motoEnv() },
      );
    type Manifest = {
      limitations: string[];
      steps: { id: string; status: string }[];
      artifacts: { type: string; location: Record<string, string>; sha256?: string }[];
    };
    // A runtime without checkpoint support (most of them): the step finishes and says what it could not do.
    const refused = await checkpoint(testIncident('CKPT-NO'));
    expect(refused.code).toBe(0);
    const without = (refused.lines.at(-1) as { manifest: Manifest }).manifest;
    expect(without.steps.find((s) => s.id.startsWith('kubernetes:checkpoint/'))?.status).toBe('done');
    expect(without.limitations.join('\n')).toMatch(
      new RegExp(`checkpoint of ${ns}/${podName}/app failed: .*500 checkpoint/restore support not available`),
    );
    expect(without.artifacts.map((a) => a.type)).not.toContain('k8s-checkpoint');

    kubelet.checkpointable.add(`${ns}/${podName}/app`);
    const taken = await checkpoint(testIncident('CKPT'));
    expect(taken.code).toBe(0);
    const archive = (taken.lines.at(-1) as { manifest: Manifest }).manifest.artifacts.find(
      (a) => a.type === 'k8s-checkpoint',
    );
    // The archive stays on the node: its place is recorded, not bytes holdfast never held.
    expect(archive?.location).toEqual({ node, path: checkpointArchivePath(`${ns}/${podName}/app`) });
    expect(archive?.sha256).toBeUndefined();
    expect(kubelet.requests).toContain(`POST /checkpoint/${ns}/${podName}/app`);
  });

  it('a re-run with a fresh journal and store finds everything in place and changes nothing', async () => {
    const before = await resourceVersions(kube(), paths());
    const res = await capture(['--state-dir', 'other-host'], 'es-rerun');
    expect(res.code).toBe(0);
    expect(res.lines.filter((l) => l.type === 'change.recorded')).toEqual([]);
    expect(res.lines.filter((l) => l.type === 'step.done').length).toBeGreaterThan(5);
    expect(await resourceVersions(kube(), paths())).toEqual(before);
  });

  it('release restores the labels and annotations and uncordons; the NetworkPolicy and PDB stay', async () => {
    const res = await runCli(['release', '--incident', incident, '--approve'], {
      cwd,
      env: motoEnv({ KUBECONFIG: toolKubeconfig }),
    });
    expect(res.code).toBe(0);
    const pod = (await kube().call('GET', paths().pod)).body;
    expect(pod.metadata.uid).toBe(podUid);
    expect(pod.metadata.labels).toEqual(originalLabels);
    expect(pod.metadata.annotations ?? {}).toEqual({});
    const n = (await kube().call('GET', paths().node)).body;
    expect(n.spec.unschedulable ?? false).toBe(false);
    expect(n.metadata.labels['holdfast.io/cordoned']).toBeUndefined();
    const v = await resourceVersions(kube(), paths());
    expect(v.policy).not.toBe('absent');
    expect(v.pdb).not.toBe('absent');
  });

  it('after release the sitrep says released; capturing again contains again, and a second release undoes it again', async () => {
    const env = motoEnv({ KUBECONFIG: toolKubeconfig });
    const sitrep = await runCli(['status', '--incident', incident, '--sitrep', '--json'], { cwd, env });
    // The NetworkPolicy stays (holdfast never deletes); everything else was undone.
    expect(sitrep.lines[0]).toMatchObject({
      type: 'sitrep',
      status: 'released',
      contained: [expect.stringMatching(/^NetworkPolicy /)],
    });

    const again = await capture([]);
    expect(again.code).toBe(0);
    // Evidence already taken is kept, not retaken; only the undone containment runs again.
    expect(again.lines.filter((l) => l.type === 'artifact.recorded')).toEqual([]);
    expect(
      again.lines
        .filter((l) => l.type === 'step.started')
        .map((l) => String(l.stepId).split('/')[0])
        .sort(),
    ).toEqual(['kubernetes:cordon', 'kubernetes:eviction-protection', 'kubernetes:quarantine-labels']);
    const pod = (await kube().call('GET', paths().pod)).body;
    expect(pod.metadata.labels).toEqual({
      tier: 'frontend',
      'holdfast.io/quarantine': incident,
      'holdfast.io/quarantine-pod': podUid,
    });
    expect((await kube().call('GET', paths().node)).body.spec.unschedulable).toBe(true);
    const status = await runCli(['status', '--incident', incident, '--sitrep', '--json'], { cwd, env });
    expect(status.lines[0]).toMatchObject({ status: 'contained' });

    // Meanwhile a responder labels the pod by hand and uncordons the node: release must not undo their decisions.
    await kube().call('PATCH', paths().pod, { metadata: { labels: { app: 'forensics' } } }, 'admin', MERGE);
    await kube().call('PATCH', paths().node, { spec: { unschedulable: false } }, 'admin', MERGE);
    const release = await runCli(['release', '--incident', incident, '--approve', '--json'], { cwd, env });
    expect(release.code).toBe(0);
    expect(release.stdout).toContain(
      'label:app is \\"forensics\\" now, not null as holdfast set it: changed since capture; left as it is',
    );
    expect((await kube().call('GET', paths().pod)).body.metadata.labels).toEqual({
      ...originalLabels,
      app: 'forensics',
    });
    expect((await kube().call('GET', paths().node)).body.spec.unschedulable ?? false).toBe(false);
  });
});

describe('--isolate-node (EKS)', () => {
  it("maps the node's providerID to its EC2 instance; the EC2 provider preserves, snapshots and isolates it in the same capture", async () => {
    const { seedAws } = await import('../../src/drill/client.js');
    const { inject } = await import('vitest');
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const ns = `eks-${Math.random().toString(16).slice(2, 8)}`;
    const node = `${ns}-node`;
    await seedNode(kube(), node, `aws:///us-east-1a/${seeded.instanceId}`);
    await seedNamespace(kube(), ns);
    await seedDeploymentPod(kube(), ns, node);
    const cwd2 = mkdtempSync(join(tmpdir(), 'hf-eks-'));
    const eksIncident = testIncident('EKS');
    const res = await runCli(
      [
        'plan',
        '--incident',
        eksIncident,
        '--pod',
        `${ns}/web-5d4f-x7k2p`,
        '--isolate-node',
        '--no-forensic-access',
        '--kubeconfig',
        kube().kubeconfigPath('admin'),
        '--store',
        'es',
        '--json',
        '--no-preflight',
      ],
      { cwd: cwd2, env: motoEnv() },
    );
    expect(res.code).toBe(0);
    const plan = (
      res.lines.find((l) => l.type === 'plan') as { plan: { steps: { id: string }[]; limitations: string[] } }
    ).plan;
    const ids = plan.steps.map((s) => s.id);
    for (const s of ['snapshot', 'protect', 'isolate']) expect(ids).toContain(`ec2:${s}/${seeded.instanceId}`);
    expect(ids).toContain(`kubernetes:cordon/${node}`);
    expect(plan.limitations.join('\n')).toContain(
      `node ${node} is EC2 instance ${seeded.instanceId} (spec.providerID)`,
    );

    const captured = await runCli(
      [
        'capture',
        '--incident',
        eksIncident,
        '--pod',
        `${ns}/web-5d4f-x7k2p`,
        '--isolate-node',
        '--forensic-cidr',
        '198.51.100.30/32',
        '--kubeconfig',
        kube().kubeconfigPath('admin'),
        '--store',
        'es',
        '--json',
      ],
      { cwd: cwd2, env: motoEnv() },
    );
    expect(captured.code).toBe(0);
    const { EC2Client, DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand, DescribeSnapshotsCommand } =
      await import('@aws-sdk/client-ec2');
    const ec2 = new EC2Client({
      endpoint: inject('motoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const byIncident = [{ Name: 'tag:holdfast:incident', Values: [eksIncident] }];
    const isolation = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [...byIncident, { Name: 'tag:holdfast:role', Values: ['isolation'] }],
        }),
      )
    ).SecurityGroups![0]!.GroupId;
    const enis =
      (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: seeded.networkInterfaceIds })))
        .NetworkInterfaces ?? [];
    for (const eni of enis) expect((eni.Groups ?? []).map((g) => g.GroupId)).toEqual([isolation]);
    // The root volume and the two seeded data volumes, one crash-consistent set.
    expect((await ec2.send(new DescribeSnapshotsCommand({ Filters: byIncident }))).Snapshots).toHaveLength(
      seeded.volumeIds.length + 1,
    );
    expect((await kube().call('GET', `/api/v1/nodes/${node}`)).body.spec.unschedulable).toBe(true);
  });
});
