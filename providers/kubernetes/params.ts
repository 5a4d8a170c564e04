/** Validate the Kubernetes targets; every problem names its case path. */
import { valueProblem, type InputProblem } from '../../src/core/errors.js';
import { paramReader } from '../../src/core/provider-kit.js';
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

/** Parse raw params (flags or case file); problems name case paths (`targets.kubernetes.pods[2]`). */
export function parseKubeParams(raw: JsonObject): { params?: KubeParams; problems: InputProblem[] } {
  const read = paramReader('kubernetes', raw, [
    'pods',
    'podSelectors',
    'nodes',
    'kubeconfig',
    'context',
    'checkpoint',
    'isolateNode',
    'tolerateNodeFailure',
  ]);
  const { problems } = read;
  const podItems = read.list('pods');
  for (const { text, at } of podItems) {
    const [ns, name, extra] = text.split('/');
    if (!ns || !name || extra !== undefined || !NAME.test(ns) || !NAME.test(name))
      problems.push(valueProblem(at, text, ': expected namespace/name'));
  }
  const selectorItems = read.list('podSelectors');
  for (const { text, at } of selectorItems) {
    const [ns, labels] = text.split(':');
    if (!ns || !NAME.test(ns) || !labels || labels.split(',').some((l) => !LABEL.test(l)))
      problems.push(valueProblem(at, text, ': expected namespace:label=value[,label=value]'));
  }
  const nodeItems = read.list('nodes');
  for (const { text, at } of nodeItems)
    if (!NAME.test(text)) problems.push(valueProblem(at, text, 'is not a node name'));
  const pods = [...new Set(podItems.map((p) => p.text))];
  const podSelectors = selectorItems.map((s) => s.text);
  const nodes = [...new Set(nodeItems.map((n) => n.text))];
  if (!pods.length && !podSelectors.length && !nodes.length)
    problems.push({
      field: 'targets.kubernetes',
      message: 'give targets.kubernetes.pods, targets.kubernetes.podSelectors or targets.kubernetes.nodes',
    });
  const tolerateNodeFailure = read.flag('tolerateNodeFailure');
  // The flags are read inside the call: their problems count before it decides.
  return read.result({
    pods,
    podSelectors,
    nodes,
    kubeconfig: read.text('kubeconfig'),
    context: read.text('context'),
    checkpoint: read.flag('checkpoint'),
    isolateNode: read.flag('isolateNode'),
    ...(tolerateNodeFailure ? { tolerateNodeFailure: true } : {}),
  });
}
