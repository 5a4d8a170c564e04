/** Validate the Kubernetes targets; every problem names its flag. */
import type { JsonObject, ProviderFlag } from '../../src/core/types.js';
import type { KubeParams } from './facts.js';

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const LABEL = /^([a-z0-9.-]+\/)?[A-Za-z0-9][-A-Za-z0-9_.]{0,62}=[A-Za-z0-9]?([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export const kubeFlags: ProviderFlag[] = [
  {
    flags: '--pod <ns/name>',
    description: 'pod to quarantine (kept running, cut off, protected; repeatable)',
    param: 'pods',
    repeatable: true,
    target: true,
  },
  {
    flags: '--pod-selector <ns:label=value,…>',
    description: 'every pod in a namespace matching these labels (repeatable)',
    param: 'podSelectors',
    repeatable: true,
    target: true,
  },
  {
    flags: '--node <name>',
    description: 'node to record and cordon (repeatable)',
    param: 'nodes',
    repeatable: true,
    target: true,
  },
  {
    flags: '--kubeconfig <file>',
    description: 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    param: 'kubeconfig',
  },
  { flags: '--context <name>', description: 'kubeconfig context', param: 'context' },
  {
    flags: '--checkpoint',
    description: 'ask the kubelet to checkpoint each container (most runtimes refuse; recorded either way)',
    param: 'checkpoint',
    boolean: true,
  },
  {
    flags: '--isolate-node',
    description:
      "also hand each node's machine (its spec.providerID) to the provider that recognises it, to preserve, snapshot and isolate it",
    param: 'isolateNode',
    boolean: true,
  },
  {
    flags: '--tolerate-node-failure',
    description:
      'let the quarantined pod tolerate node.kubernetes.io/not-ready and unreachable (NoExecute) with no time limit, so a failing node does not evict it',
    param: 'tolerateNodeFailure',
    boolean: true,
  },
];

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v).trim()).filter(Boolean);
}

export function parseKubeParams(raw: JsonObject): { params?: KubeParams; problems: string[] } {
  const problems: string[] = [];
  const known = [
    'pods',
    'podSelectors',
    'nodes',
    'kubeconfig',
    'context',
    'checkpoint',
    'isolateNode',
    'tolerateNodeFailure',
  ];
  for (const key of Object.keys(raw))
    if (!known.includes(key)) problems.push(`targets.kubernetes.${key}: unknown field`);
  const pods = [...new Set(list(raw.pods))];
  for (const p of pods) {
    const [ns, name, extra] = p.split('/');
    if (!ns || !name || extra !== undefined || !NAME.test(ns) || !NAME.test(name))
      problems.push(`--pod "${p}": expected namespace/name`);
  }
  const podSelectors = list(raw.podSelectors);
  for (const s of podSelectors) {
    const [ns, labels] = s.split(':');
    if (!ns || !NAME.test(ns) || !labels || labels.split(',').some((l) => !LABEL.test(l)))
      problems.push(`--pod-selector "${s}": expected namespace:label=value[,label=value]`);
  }
  const nodes = [...new Set(list(raw.nodes))];
  for (const n of nodes) if (!NAME.test(n)) problems.push(`--node "${n}" is not a node name`);
  if (!pods.length && !podSelectors.length && !nodes.length)
    problems.push('kubernetes: give --pod, --pod-selector or --node');
  const flag = (v: unknown) => v === true || v === 'true';
  return problems.length
    ? { problems }
    : {
        params: {
          pods,
          podSelectors,
          nodes,
          kubeconfig: raw.kubeconfig ? String(raw.kubeconfig) : null,
          context: raw.context ? String(raw.context) : null,
          checkpoint: flag(raw.checkpoint),
          isolateNode: flag(raw.isolateNode),
          ...(flag(raw.tolerateNodeFailure) ? { tolerateNodeFailure: true } : {}),
        },
        problems,
      };
}
