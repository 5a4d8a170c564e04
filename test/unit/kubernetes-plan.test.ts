/** The Kubernetes planner and its pure helpers: facts built in memory → steps, order, labels, limitations. */
import { describe, expect, it } from 'vitest';
import { describeProblem } from '../../src/core/errors.js';
import { buildPlan } from '../../src/engine/plan.js';
import type { Case } from '../../src/core/types.js';
import { rbacOf } from '../../providers/kubernetes/api-paths.js';
import type { KubeFacts, NodeFacts, PodFacts } from '../../providers/kubernetes/facts.js';
import {
  differenceFromWanted,
  MAX_OBJECT_NAME_LENGTH,
  quarantineObjectName,
  quarantinePdb,
  quarantinePolicy,
} from '../../providers/kubernetes/objects.js';
import { parseKubeParams } from '../../providers/kubernetes/params.js';
import { kubeFindings, quarantinedLabels } from '../../providers/kubernetes/plan.js';
import { claimedTargets } from '../../src/engine/claims.js';
import { builtinProviders } from '../../src/engine/registry.js';
import { bareNode, kubeCase, kubeParams } from './kube-fixtures.js';
import { DETACHED_LABEL_VALUE, detachingLabelPatch, selects } from '../../providers/kubernetes/selectors.js';

const INCIDENT = 'IR-K8S-PLAN';
const kase = (extra: Partial<Case> = {}): Case => kubeCase(INCIDENT, extra);

function pod(name: string, extra: Partial<PodFacts> = {}): PodFacts {
  return {
    namespace: 'shop',
    name,
    uid: `uid-${name}`,
    resourceVersion: '7',
    labels: { app: 'web', 'pod-template-hash': '5d4f', tier: 'frontend' },
    annotations: {},
    nodeName: 'node-1',
    containers: ['app'],
    initContainers: [],
    owners: [
      { kind: 'ReplicaSet', name: 'web-5d4f', uid: 'rs' },
      { kind: 'Deployment', name: 'web', uid: 'dep' },
    ],
    holdingSelectors: [
      { source: 'ReplicaSet web-5d4f', selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f' } } },
      { source: 'Service web', selector: { matchLabels: { app: 'web' } } },
    ],
    services: ['web'],
    policies: [],
    pdbs: [],
    ...extra,
  };
}

const node = bareNode;

function facts(
  pods: PodFacts[],
  nodes: NodeFacts[] = [node('node-1')],
  params: Partial<KubeFacts['params']> = {},
): KubeFacts {
  return {
    params: kubeParams(pods, params),
    pods,
    nodes,
  };
}

const plan = (f: KubeFacts, k = kase()) =>
  // Every registered provider: their claims name the machines behind the nodes.
  buildPlan(k, new Map([['kubernetes', f]]), builtinProviders);

describe('Kubernetes planner', () => {
  it('collects first, then quarantines in order: policy → labels → eviction protection → cordon', () => {
    const p = plan(facts([pod('web-1')]));
    const byId = Object.fromEntries(p.steps.map((s) => [s.id.replace('kubernetes:', ''), s]));
    expect(Object.keys(byId).sort()).toEqual([
      'collect/shop/web-1',
      'cordon/node-1',
      'eviction-protection/shop/web-1',
      'node-record/node-1',
      'quarantine-labels/shop/web-1',
      'quarantine-policy/shop/web-1',
    ]);
    expect(byId['collect/shop/web-1']!.phase).toBe('collect');
    expect(byId['quarantine-policy/shop/web-1']!.dependsOn).toEqual(['kubernetes:collect/shop/web-1']);
    expect(byId['quarantine-labels/shop/web-1']!.dependsOn).toEqual(
      expect.arrayContaining(['kubernetes:quarantine-policy/shop/web-1', 'kubernetes:collect/shop/web-1']),
    );
    expect(byId['eviction-protection/shop/web-1']!.dependsOn).toEqual(
      expect.arrayContaining(['kubernetes:quarantine-labels/shop/web-1']),
    );
    expect(byId['cordon/node-1']!.dependsOn).toEqual(
      expect.arrayContaining(['kubernetes:eviction-protection/shop/web-1', 'kubernetes:node-record/node-1']),
    );
    expect(byId['quarantine-policy/shop/web-1']!.inputs.objectName).toBe('holdfast-ir-k8s-plan-web-1');
    expect(byId['quarantine-labels/shop/web-1']!.title).toContain('ReplicaSet web-5d4f, Service web');
    expect(p.limitations.join('\n')).toMatch(/CNI/);
    expect(p.limitations.join('\n')).toMatch(/EKS VPC CNI .* --isolate-node/);
  });

  it('plans the same ids for the same facts (a re-run finds its steps)', () => {
    expect(plan(facts([pod('web-1')])).steps.map((s) => s.id)).toEqual(
      plan(facts([pod('web-1')])).steps.map((s) => s.id),
    );
  });

  it('--no-contain keeps collection only; low severity holds every contain step for approval', () => {
    expect(plan(facts([pod('web-1')]), kase({ contain: false })).steps.map((s) => s.phase)).not.toContain('contain');
    const low = plan(facts([pod('web-1')]), kase({ severity: 'low' }));
    expect(
      low.steps
        .filter((s) => s.awaitsApproval)
        .map((s) => s.id.split('/')[0])
        .sort(),
    ).toEqual([
      'kubernetes:cordon',
      'kubernetes:eviction-protection',
      'kubernetes:quarantine-labels',
      'kubernetes:quarantine-policy',
    ]);
  });

  it('--checkpoint adds a collect step for scheduled pods only', () => {
    const p = plan(facts([pod('web-1'), pod('pending', { nodeName: null })], [node('node-1')], { checkpoint: true }));
    expect(p.steps.map((s) => s.id).filter((id) => id.includes('checkpoint'))).toEqual([
      'kubernetes:checkpoint/shop/web-1',
    ]);
    expect(p.limitations.join('\n')).toMatch(/shop\/pending is not scheduled on a node/);
  });

  it('says which NetworkPolicies still select the pod after quarantine (policies add up)', () => {
    const p = plan(
      facts([
        pod('web-1', {
          policies: [
            { name: 'allow-frontend', podSelector: { matchLabels: { tier: 'frontend' } }, allows: true },
            { name: 'allow-web', podSelector: { matchLabels: { app: 'web' } }, allows: true },
            { name: 'deny-all', podSelector: {}, allows: false },
          ],
        }),
      ]),
    );
    const text = p.limitations.join('\n');
    expect(text).toMatch(/NetworkPolicy shop\/allow-frontend still selects shop\/web-1/);
    expect(text).not.toMatch(/allow-web/);
    expect(text).not.toMatch(/deny-all/);
  });

  it('warns that a StatefulSet runs one short and that an empty selector cannot be left', () => {
    const sts = pod('db-0', {
      owners: [{ kind: 'StatefulSet', name: 'db', uid: 's' }],
      holdingSelectors: [{ source: 'StatefulSet db', selector: {} }],
    });
    const text = plan(facts([sts])).limitations.join('\n');
    expect(text).toMatch(/StatefulSet db cannot start a replacement/);
    expect(text).toMatch(/StatefulSet db selects every pod/);
  });

  it('--isolate-node maps nodes to EC2 instances through providerID, and says when it cannot', () => {
    const f = facts(
      [pod('web-1')],
      [
        node('node-1', { providerID: 'aws:///us-east-1a/i-0abc' }),
        node('kind-1', { providerID: 'kind://docker/kind/kind-1' }),
      ],
      { isolateNode: true },
    );
    const derived = (k: KubeFacts) => claimedTargets(kubeFindings(k), builtinProviders);
    expect(derived(f)).toEqual({ ec2: { instances: ['i-0abc'] } });
    const text = plan(f).limitations.join('\n');
    expect(text).toMatch(/node node-1 is EC2 instance i-0abc \(spec.providerID\)/);
    expect(text).toMatch(/kind-1 has no AWS providerID \(kind:\/\/docker\/kind\/kind-1\)/);
    expect(derived(facts([pod('web-1')], [node('node-1', { providerID: 'aws:///us-east-1a/i-0abc' })]))).toEqual({});
  });

  it('refuses to quarantine a pod without forensic CIDRs unless forensic access is declined, and then says so', () => {
    expect(() => plan(facts([pod('web-1')]), kase({ forensicCidrs: [] }))).toThrow(
      /forensicCidrs: none given, and containment would leave the quarantine NetworkPolicies admitting nobody/,
    );
    const declined = plan(facts([pod('web-1')]), kase({ forensicCidrs: [], forensicAccess: false }));
    expect(declined.limitations.join('\n')).toMatch(
      /forensic access declined: the quarantine NetworkPolicies admit nobody/,
    );
    // Preservation alone cuts nobody off: nothing to decide.
    expect(plan(facts([pod('web-1')]), kase({ forensicCidrs: [], contain: false })).steps.length).toBeGreaterThan(0);
  });
});

describe('labels that take a pod out of its controller and Services', () => {
  it('removes exactly the keys the holding selectors use, keeps the rest, adds the quarantine labels', () => {
    const { labels, unbreakable } = quarantinedLabels(pod('web-1'), INCIDENT);
    expect(labels).toEqual({
      tier: 'frontend',
      'holdfast.io/quarantine': INCIDENT,
      'holdfast.io/quarantine-pod': 'uid-web-1',
    });
    expect(unbreakable).toEqual([]);
  });

  it('handles set-based selectors: In/Exists keys go, NotIn/DoesNotExist get an excluded value', () => {
    const labels = { app: 'web', track: 'stable', env: 'prod' };
    const notIn = {
      source: 'ReplicaSet a',
      selector: { matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['canary'] }] },
    };
    const absent = {
      source: 'ReplicaSet b',
      selector: { matchExpressions: [{ key: 'debug', operator: 'DoesNotExist' }] },
    };
    const inExists = {
      source: 'ReplicaSet c',
      selector: {
        matchExpressions: [
          { key: 'app', operator: 'In', values: ['web'] },
          { key: 'env', operator: 'Exists' },
        ],
      },
    };
    for (const s of [notIn, absent, inExists]) {
      const { patch, unbreakable } = detachingLabelPatch(labels, [s]);
      const after = Object.fromEntries(Object.entries({ ...labels, ...patch }).filter(([, v]) => v !== null)) as Record<
        string,
        string
      >;
      expect(selects(s.selector, labels)).toBe(true);
      expect(selects(s.selector, after), s.source).toBe(false);
      expect(unbreakable).toEqual([]);
    }
    expect(detachingLabelPatch(labels, [notIn]).patch).toEqual({ track: 'canary' });
    expect(detachingLabelPatch(labels, [absent]).patch).toEqual({ debug: DETACHED_LABEL_VALUE });
    expect(detachingLabelPatch(labels, [inExists]).patch).toEqual({ app: null, env: null });
  });

  it('leaves selectors alone that do not select the pod, and reports what cannot be left', () => {
    expect(
      detachingLabelPatch({ app: 'web' }, [{ source: 'Service other', selector: { matchLabels: { app: 'api' } } }])
        .patch,
    ).toEqual({});
    expect(detachingLabelPatch({ app: 'web' }, [{ source: 'Service all', selector: {} }]).unbreakable).toEqual([
      'Service all',
    ]);
    // A value one selector excludes may be one another includes: the result is checked as a whole.
    const conflict = detachingLabelPatch({ app: 'web' }, [
      { source: 'A', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'canary'] }] } },
      { source: 'B', selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['canary'] }] } },
    ]);
    expect(conflict.unbreakable).toEqual(['A']);
  });

  it('follows Kubernetes selector semantics', () => {
    expect(selects(undefined, { a: '1' })).toBe(false);
    expect(selects({}, { a: '1' })).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {})).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, {})).toBe(false);
  });
});

describe('quarantine objects', () => {
  it('names are deterministic, lower-case, at most 253 characters and distinct for long pod names', () => {
    expect(quarantineObjectName('IR-2026-0042', 'web-5d4f-x7k2p')).toBe('holdfast-ir-2026-0042-web-5d4f-x7k2p');
    const long = 'a'.repeat(240);
    const [a, b] = [
      quarantineObjectName('IR-2026-0042', `${long}-aaaaa`),
      quarantineObjectName('IR-2026-0042', `${long}-bbbbb`),
    ];
    expect(a.length).toBeLessThanOrEqual(MAX_OBJECT_NAME_LENGTH);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  });

  it('the policy lists both directions, admits only the forensic CIDRs (and ports), allows no egress', () => {
    const p = quarantinePolicy(
      'n',
      INCIDENT,
      ['198.51.100.7/32'],
      [
        { from: 22, to: 22 },
        { from: 8000, to: 8100 },
      ],
    ) as any;
    expect(p.spec.podSelector).toEqual({ matchLabels: { 'holdfast.io/quarantine': INCIDENT } });
    expect(p.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(p.spec.ingress).toEqual([
      {
        from: [{ ipBlock: { cidr: '198.51.100.7/32' } }],
        ports: [
          { protocol: 'TCP', port: 22 },
          { protocol: 'TCP', port: 8000, endPort: 8100 },
        ],
      },
    ]);
    expect(p.spec.egress).toEqual([]);
    expect((quarantinePolicy('n', INCIDENT, []) as any).spec.ingress).toEqual([]);
  });

  it('each PDB covers exactly its own pod with an integer minAvailable', () => {
    const pdb = quarantinePdb('n', INCIDENT, { uid: 'u-1' }) as any;
    expect(pdb.spec).toEqual({
      minAvailable: 1,
      selector: { matchLabels: { 'holdfast.io/quarantine': INCIDENT, 'holdfast.io/quarantine-pod': 'u-1' } },
    });
  });

  it('an existing object is accepted only when it is exactly ours', () => {
    const wanted = quarantinePolicy('n', INCIDENT, ['198.51.100.7/32']);
    expect(differenceFromWanted(structuredClone(wanted), wanted)).toBeUndefined();
    expect(differenceFromWanted({ spec: { ...(wanted.spec as object), egress: [{}] } }, wanted)).toBe(
      'it allows egress',
    );
    expect(differenceFromWanted({ spec: { ...(wanted.spec as object), policyTypes: ['Ingress'] } }, wanted)).toMatch(
      /policyTypes/,
    );
    expect(differenceFromWanted({ spec: { ...(wanted.spec as object), podSelector: {} } }, wanted)).toBe(
      'it selects other pods',
    );
    const pdb = quarantinePdb('n', INCIDENT, { uid: 'u-1' });
    expect(differenceFromWanted({ spec: { minAvailable: '100%', selector: (pdb.spec as any).selector } }, pdb)).toMatch(
      /minAvailable/,
    );
  });
});

describe('request → RBAC permission', () => {
  it.each([
    ['GET', '/api/v1/namespaces/shop/pods/web', 'get', '', 'pods'],
    ['GET', '/api/v1/namespaces/shop/pods', 'list', '', 'pods'],
    ['GET', '/api/v1/namespaces/shop/pods/web/log?container=app', 'get', '', 'pods/log'],
    ['PATCH', '/api/v1/nodes/n1', 'patch', '', 'nodes'],
    ['POST', '/api/v1/nodes/n1/proxy/checkpoint/shop/web/app', 'create', '', 'nodes/proxy'],
    [
      'POST',
      '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies',
      'create',
      'networking.k8s.io',
      'networkpolicies',
    ],
    ['GET', '/apis/apps/v1/namespaces/shop/replicasets/web-5d4f', 'get', 'apps', 'replicasets'],
    ['POST', '/api/v1/namespaces/shop/pods/web/eviction', 'create', '', 'pods/eviction'],
    ['DELETE', '/api/v1/namespaces/shop/pods/web', 'delete', '', 'pods'],
  ])('%s %s needs %s %s/%s', (method, path, verb, group, resource) => {
    expect(rbacOf(method, path)).toEqual({ verb, group, resource });
  });
});

describe('kubernetes params', () => {
  it('names every bad input at once', () => {
    const { problems } = parseKubeParams({
      pods: ['shop', 'a/b/c'],
      podSelectors: ['shop'],
      nodes: ['Bad_Node'],
      colour: 'x',
    });
    expect(problems.map(describeProblem)).toEqual([
      'targets.kubernetes.colour: unknown field',
      'targets.kubernetes.pods[0]: "shop": expected namespace/name',
      'targets.kubernetes.pods[1]: "a/b/c": expected namespace/name',
      'targets.kubernetes.podSelectors[0]: "shop": expected namespace:label=value[,label=value]',
      'targets.kubernetes.nodes[0]: "Bad_Node" is not a node name',
    ]);
    expect(parseKubeParams({}).problems.map(describeProblem)).toEqual([
      'targets.kubernetes: give targets.kubernetes.pods, targets.kubernetes.podSelectors or targets.kubernetes.nodes',
    ]);
  });

  it('accepts the kubectl-style flags', () => {
    const { params } = parseKubeParams({
      pods: ['shop/web-1'],
      podSelectors: ['shop:app=web,tier=frontend'],
      kubeconfig: '/k',
      context: 'prod',
      checkpoint: true,
      isolateNode: 'true',
    });
    expect(params).toEqual({
      pods: ['shop/web-1'],
      podSelectors: ['shop:app=web,tier=frontend'],
      nodes: [],
      kubeconfig: '/k',
      context: 'prod',
      checkpoint: true,
      isolateNode: true,
    });
  });
});
