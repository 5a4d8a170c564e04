/** Issue 12, pure parts: what the plan says about controllers, and what release predicts they will do. */
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/engine/plan.js';
import { builtinProviders } from '../../src/engine/registry.js';
import type { KubeFacts, PodFacts } from '../../providers/kubernetes/facts.js';
import { bareNode, barePod, kubeCase, kubeParams } from './kube-fixtures.js';
import { parseKubeParams } from '../../providers/kubernetes/params.js';
import { PDB_LIMITATION } from '../../providers/kubernetes/plan.js';
import { keysToKeepOut, predictReadoption, type ControllerView } from '../../providers/kubernetes/readoption.js';
import { nodeFailureTolerations } from '../../providers/kubernetes/run-contain.js';

const kase = kubeCase('IR-K8S-12');
const pod = (name: string, extra: Partial<PodFacts> = {}): PodFacts =>
  barePod(name, { labels: { app: 'web' }, ...extra });
const node = bareNode;
const plan = (pods: PodFacts[], params: Partial<KubeFacts['params']> = {}, nodes = [node('node-1')]) =>
  buildPlan(
    kase,
    new Map([
      [
        'kubernetes',
        {
          params: kubeParams(pods, params),
          pods,
          nodes,
        } satisfies KubeFacts,
      ],
    ]),
    // Every registered provider: their claims name the machines behind the nodes.
    builtinProviders,
  );

describe('the plan names what the controllers and the network do to a quarantine', () => {
  it('a hostNetwork pod: the NetworkPolicy cannot isolate it; a step fails unless --isolate-node isolates its EC2 node', () => {
    const p = plan([pod('agent', { hostNetwork: true })]);
    expect(p.limitations.join('\n')).toMatch(
      /shop\/agent uses the host network: NetworkPolicies do not apply .*--isolate-node/,
    );
    expect(p.steps.map((s) => s.id)).toContain('kubernetes:host-network/shop/agent');
    const isolated = plan([pod('agent', { hostNetwork: true })], { isolateNode: true }, [
      node('node-1', { providerID: 'aws:///us-east-1a/i-0abc' }),
    ]);
    expect(isolated.steps.map((s) => s.id)).not.toContain('kubernetes:host-network/shop/agent');
    // --isolate-node on a node that is not an EC2 instance isolates nothing: still partial.
    expect(plan([pod('agent', { hostNetwork: true })], { isolateNode: true }).steps.map((s) => s.id)).toContain(
      'kubernetes:host-network/shop/agent',
    );
    expect(plan([pod('web')]).steps.map((s) => s.id)).not.toContain('kubernetes:host-network/shop/web');
  });

  it('a DaemonSet pod: the replacement lands on the cordoned node, said in the limitations and the cordon step', () => {
    const p = plan([
      pod('log-agent-x', { owners: [{ kind: 'DaemonSet', name: 'log-agent', uid: 'ds', controller: true }] }),
    ]);
    expect(p.limitations.join('\n')).toMatch(
      /DaemonSet log-agent starts a replacement .* on node node-1 although it is cordoned/,
    );
    expect(p.steps.find((s) => s.id === 'kubernetes:cordon/node-1')?.title).toMatch(
      /DaemonSet shop\/log-agent still runs a pod there/,
    );
  });

  it('a Job pod (of a CronJob): out of the Job first, then the Job and CronJob suspended', () => {
    const p = plan([
      pod('pay-1-abcde', {
        owners: [
          { kind: 'Job', name: 'pay-1', uid: 'job', controller: true },
          { kind: 'CronJob', name: 'pay', uid: 'cron', controller: true },
        ],
      }),
    ]);
    expect(p.limitations.join('\n')).toMatch(
      /Job pay-1 starts a new pod .* suspends the Job at once and its CronJob pay/,
    );
  });

  it('an owner whose selector cannot be read: the ownerReference is removed, and re-adoption is possible', () => {
    const p = plan([
      pod('clone-x', {
        owners: [{ kind: 'CloneSet', name: 'clone', uid: 'cs', controller: true, unreadable: 'permission missing' }],
        controllerSelectorReadable: false,
      }),
    ]);
    expect(p.limitations.join('\n')).toMatch(
      /CloneSet clone has no label selector .*ownerReference is removed .*may adopt the pod again/,
    );
  });

  it('every plan with a pod says what a PodDisruptionBudget does not stop; --tolerate-node-failure is opt-in', () => {
    expect(plan([pod('web')]).limitations).toContain(PDB_LIMITATION);
    expect(PDB_LIMITATION).toMatch(/taint-based eviction .*NotReady .*node pressure/);
    expect(plan([pod('web')]).steps.find((s) => s.id.includes('eviction-protection'))?.title).not.toMatch(/toleration/);
    expect(
      plan([pod('web')], { tolerateNodeFailure: true }).steps.find((s) => s.id.includes('eviction-protection'))?.title,
    ).toMatch(/node-failure tolerations/);
    expect(parseKubeParams({ pods: ['shop/web'], tolerateNodeFailure: true }).params?.tolerateNodeFailure).toBe(true);
  });

  it('node-failure tolerations lose their time limit (the shortest one wins) or are added; others are kept', () => {
    const defaults = [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'example.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ];
    expect(nodeFailureTolerations(defaults)).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      { key: 'example.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    ]);
  });
});

describe('release predicts what each controller does with the pod', () => {
  const rs = (extra: Partial<ControllerView> = {}): ControllerView => ({
    kind: 'ReplicaSet',
    name: 'web-5d4f',
    uid: 'rs',
    selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f' } },
    replicas: 1,
    activePods: 0,
    deleting: false,
    ...extra,
  });
  const labels = { app: 'web', 'pod-template-hash': '5d4f' };

  it('an old ReplicaSet kept at 0 after a rollout adopts and deletes at once', () => {
    expect(predictReadoption({ name: 'web-x', labels }, [rs({ replicas: 0 })])).toEqual([
      expect.objectContaining({ controller: 'ReplicaSet web-5d4f', verdict: 'deletes' }),
    ]);
  });

  it('a live ReplicaSet with its replacement running is one over: it may delete the pod by its ranking', () => {
    expect(predictReadoption({ name: 'web-x', labels }, [rs({ activePods: 1 })])[0]?.verdict).toBe('may-delete');
  });

  it('a ReplicaSet short of replicas adopts it safely; one that does not select it, or is being deleted, does nothing', () => {
    expect(predictReadoption({ name: 'web-x', labels }, [rs()])[0]?.verdict).toBe('adopts');
    expect(predictReadoption({ name: 'web-x', labels: { app: 'web' } }, [rs()])).toEqual([]);
    expect(predictReadoption({ name: 'web-x', labels }, [rs({ deleting: true })])).toEqual([]);
  });

  it('a StatefulSet replaces a pod of an older revision or above its replicas; Jobs and DaemonSets are not trusted', () => {
    const sts: ControllerView = {
      kind: 'StatefulSet',
      name: 'db',
      uid: 's',
      selector: { matchLabels: { app: 'db' } },
      replicas: 3,
      activePods: 2,
      deleting: false,
      updateRevision: 'db-2',
    };
    const at = (rev: string, name = 'db-1') =>
      predictReadoption({ name, labels: { app: 'db', 'controller-revision-hash': rev } }, [sts])[0]?.verdict;
    expect(at('db-2')).toBe('adopts');
    expect(at('db-1')).toBe('deletes');
    expect(at('db-2', 'db-3')).toBe('deletes');
    const job = { ...sts, kind: 'Job', name: 'pay', uid: 'j' };
    expect(predictReadoption({ name: 'p', labels: { app: 'db' } }, [job])[0]?.verdict).toBe('may-delete');
  });

  it('leaves the pod out of the controller by a key no Service uses, so it may return to its Services', () => {
    const selector = rs().selector!;
    expect(keysToKeepOut(selector, labels, ['app', 'pod-template-hash'], new Set(['app']))).toEqual([
      'pod-template-hash',
    ]);
    // Only shared keys: all of them stay off.
    expect(keysToKeepOut({ matchLabels: { app: 'web' } }, labels, ['app'], new Set(['app']))).toEqual(['app']);
    // Nothing restorable that the selector uses: no label change keeps it out.
    expect(keysToKeepOut(selector, labels, ['tier'], new Set())).toEqual([]);
  });
});
