/**
 * A saved plan's Kubernetes step, checked like fresh input: its action is one of ours, every input
 * has the type and syntax the planner writes (names that end up in API paths above all), and what
 * the case decides (the pods and nodes, the quarantine object's name, --checkpoint) is what the case
 * says. Pure: no call is made.
 */
import type { InputProblem } from '../../src/core/errors.js';
import {
  anyObject,
  bool,
  equals,
  listOf,
  nullable,
  shape,
  targetProblems,
  text,
  type Check,
} from '../../src/core/input-shape.js';
import type { Case, Step } from '../../src/core/types.js';
import type { KubeParams } from './facts.js';
import { quarantineObjectName } from './objects.js';
import type { KubeActions, KubeStep } from './steps.js';

/** Object names (DNS subdomains), as parseKubeParams takes them. */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const name = text(NAME, 'is not a Kubernetes object name');
const containerName = text(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'is not a container name');
const uid = text(/^[A-Za-z0-9-]{1,64}$/, 'is not a Kubernetes uid');
/** An owner's REST path, in the pod's namespace and naming the owner. */
const ownerPath =
  (namespace: string): Check =>
  (value, at, problems) => {
    const path = /^\/(api\/v1|apis\/[a-z0-9.-]+\/v[0-9a-z]+)\/namespaces\/([^/]+)\/[a-z0-9]+\/([^/]+)$/.exec(
      String(value),
    );
    if (typeof value !== 'string' || !path || path[2] !== namespace || !NAME.test(path[3]!))
      problems.push({ field: at, message: `is not the API path of an object in namespace ${namespace}` });
  };
const owner = (namespace: string) =>
  shape(
    {
      kind: text(/^[A-Z][A-Za-z0-9]{0,62}$/, 'is not a Kubernetes kind'),
      name,
      uid,
      apiVersion: text(/^([a-z0-9.-]+\/)?v[0-9a-z]+$/, 'is not an API version'),
      path: nullable(ownerPath(namespace)),
      controller: bool,
      unreadable: text(),
    },
    ['apiVersion', 'path', 'controller', 'unreadable'],
  );

/** The pod inputs: the pod the step's id names, its facts as discovery recorded them, the incident's object name. */
function podInputs(kase: Case, namespace: string, podName: string): Check {
  return shape({
    pod: shape(
      {
        namespace: equals(namespace, "the step's id"),
        name: equals(podName, "the step's id"),
        uid,
        resourceVersion: text(/^[0-9A-Za-z]{0,64}$/, 'is not a resource version'),
        labels: anyObject,
        annotations: anyObject,
        nodeName: nullable(name),
        containers: listOf(containerName),
        initContainers: listOf(containerName),
        owners: listOf(owner(namespace)),
        hostNetwork: bool,
        controllerSelectorReadable: bool,
        holdingSelectors: listOf(shape({ source: text(), selector: anyObject })),
        services: listOf(name),
        policies: listOf(shape({ name, podSelector: anyObject, allows: bool })),
        pdbs: listOf(name),
        serviceAccount: name,
      },
      ['hostNetwork', 'controllerSelectorReadable', 'serviceAccount'],
    ),
    objectName: equals(quarantineObjectName(kase.incident, podName), 'the incident and the pod'),
  });
}

/** The node inputs: the node the step's id names and the machine a provider recognised behind it. */
const nodeInputs = (nodeName: string): Check =>
  shape({
    node: shape({
      name: equals(nodeName, "the step's id"),
      uid,
      unschedulable: bool,
      providerID: nullable(text(/^[\w.:/-]{1,255}$/, 'is not a provider ID')),
      instanceId: nullable(text(/^[\w.:/-]{1,255}$/, 'is not a machine id')),
    }),
  });

/** What each action's step is about (every action listed: a new one must say). */
const SUBJECT: Record<keyof KubeActions, 'pod' | 'node'> = {
  collect: 'pod',
  checkpoint: 'pod',
  'quarantine-policy': 'pod',
  'quarantine-labels': 'pod',
  'eviction-protection': 'pod',
  'host-network': 'pod',
  'node-record': 'node',
  cordon: 'node',
};

/**
 * Check one Kubernetes step of a saved plan against its case; fields are paths in the step
 * (`inputs.pod.name`). A pod must be one the case names or in a namespace a pod selector searches;
 * a node one the case names, unless the case targets pods (their nodes only discovery knows: then
 * its syntax is checked).
 */
export function parseKubeStep(step: Step, kase: Case): { step?: KubeStep; problems: InputProblem[] } {
  const params = kase.targets.kubernetes as KubeParams | undefined;
  if (!params) return { problems: [{ field: 'provider', message: 'kubernetes has no targets in the case' }] };
  if (!Object.hasOwn(SUBJECT, step.action))
    return { problems: [{ field: 'action', message: `${JSON.stringify(step.action)} is not a Kubernetes action` }] };
  const onPod = SUBJECT[step.action as keyof KubeActions] === 'pod';
  const problems: InputProblem[] = [];
  const local = step.id.slice('kubernetes:'.length);
  const prefix = `${step.action}/`;
  const subject = local.startsWith(prefix) ? local.slice(prefix.length) : '';
  if (!local.startsWith(prefix)) problems.push({ field: 'id', message: `does not start with kubernetes:${prefix}` });
  if (onPod) {
    const [namespace = '', podName = '', extra] = subject.split('/');
    if (!NAME.test(namespace) || !NAME.test(podName) || extra !== undefined)
      problems.push({ field: 'id', message: `${JSON.stringify(subject)} is not namespace/name`, continues: true });
    else if (
      !params.pods.includes(subject) &&
      !params.podSelectors.some((s) => s.slice(0, s.indexOf(':')) === namespace)
    )
      problems.push({
        field: 'inputs.pod.name',
        message: `${JSON.stringify(subject)} is not among targets.kubernetes.pods (nor in a namespace of targets.kubernetes.podSelectors) in the case`,
        continues: true,
      });
    problems.push(...targetProblems(step, `k8s:pod:${subject}`));
    podInputs(kase, namespace, podName)(step.inputs, 'inputs', problems);
    const pod = (step.inputs.pod ?? {}) as { hostNetwork?: unknown; nodeName?: unknown };
    if (step.action === 'checkpoint' && !params.checkpoint)
      problems.push({
        field: 'action',
        message: 'checkpoint is planned only when targets.kubernetes.checkpoint is true',
      });
    if (step.action === 'checkpoint' && pod.nodeName === null)
      problems.push({ field: 'inputs.pod.nodeName', message: 'is null: a pod on no node has no checkpoint' });
    if (step.action === 'host-network' && pod.hostNetwork !== true)
      problems.push({
        field: 'inputs.pod.hostNetwork',
        message: 'is not true: host-network is planned only for such pods',
      });
  } else {
    if (!NAME.test(subject))
      problems.push({ field: 'id', message: `${JSON.stringify(subject)} is not a node name`, continues: true });
    else if (!params.nodes.includes(subject) && !params.pods.length && !params.podSelectors.length)
      problems.push({
        field: 'inputs.node.name',
        message: `${JSON.stringify(subject)} is not among targets.kubernetes.nodes in the case`,
        continues: true,
      });
    problems.push(...targetProblems(step, `k8s:node:${subject}`));
    nodeInputs(subject)(step.inputs, 'inputs', problems);
  }
  return problems.length ? { problems } : { step: step as KubeStep, problems };
}
