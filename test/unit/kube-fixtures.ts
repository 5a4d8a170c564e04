/** Kubernetes facts built in memory for the pure planner tests: one place for their shape. */
import type { Case } from '../../src/core/types.js';
import type { KubeFacts, NodeFacts, PodFacts } from '../../providers/kubernetes/facts.js';

/** A Kubernetes-only case; `extra` overrides any field. */
export const kubeCase = (incident: string, extra: Partial<Case> = {}): Case => ({
  incident,
  severity: 'high',
  approveContainment: false,
  contain: true,
  forensicCidrs: ['198.51.100.7/32'],
  store: { kind: 'fs', dir: '/tmp/x' },
  targets: { kubernetes: {} },
  ...extra,
});

/** A pod in namespace `shop` on node-1 with no owner, selector, service or policy. */
export const barePod = (name: string, extra: Partial<PodFacts> = {}): PodFacts => ({
  namespace: 'shop',
  name,
  uid: `uid-${name}`,
  resourceVersion: '7',
  labels: {},
  annotations: {},
  nodeName: 'node-1',
  containers: ['app'],
  initContainers: [],
  owners: [],
  holdingSelectors: [],
  services: [],
  policies: [],
  pdbs: [],
  ...extra,
});

/** A schedulable node with no providerID. */
export const bareNode = (name: string, extra: Partial<NodeFacts> = {}): NodeFacts => ({
  name,
  uid: `uid-${name}`,
  unschedulable: false,
  providerID: null,
  ...extra,
});

/** The provider's parsed params for these pods, every option off unless `extra` sets it. */
export const kubeParams = (
  pods: readonly PodFacts[],
  extra: Partial<KubeFacts['params']> = {},
): KubeFacts['params'] => ({
  pods: pods.map((p) => `${p.namespace}/${p.name}`),
  podSelectors: [],
  nodes: [],
  kubeconfig: null,
  context: null,
  checkpoint: false,
  isolateNode: false,
  ...extra,
});
