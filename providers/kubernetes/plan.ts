/**
 * Pure: Kubernetes facts → steps. Keep the suspect pod, and only it, alive, cut off and protected.
 * Per pod: collect first (events expire), then quarantine in this order — NetworkPolicy, labels
 * (quarantine label, then the holding selectors' keys), eviction protection — then cordon its node.
 */
import { forensicAccessDecision } from '../../src/core/cidr.js';
import type { Claimants, Finding } from '../../src/core/claims.js';
import type { Case, StepDraft } from '../../src/core/types.js';
import type { KubeFacts, PodFacts, PodStepInputs } from './facts.js';
import { quarantineLabels, quarantineObjectName } from './objects.js';
import { applyLabelPatch, detachingLabelPatch, selects } from './selectors.js';
import type { KubeStep } from './steps.js';

/** What the quarantine PodDisruptionBudget does not stop, said in every plan. */
export const PDB_LIMITATION =
  'a PodDisruptionBudget only stops evictions through the Eviction API (drains, autoscalers): it does not stop taint-based eviction when the node turns NotReady or unreachable (NoExecute, after the tolerationSeconds of 300 s by default), the kubelet evicting under node pressure, a preemption, or a plain delete; --tolerate-node-failure makes the pod tolerate the node-failure taints with no time limit';

export const KUBE_LIMITATIONS = [
  'a NetworkPolicy is enforced only if the cluster network plugin (CNI) enforces policies; whether established connections are cut is also up to the CNI',
];

/** What the node's machine is called: as its provider names it, else as the machines providers recognise are. */
function machineNoun(claimants: Claimants, providerID: string | null): string {
  return claimants.machine(providerID)?.noun ?? (claimants.machineNouns.join(' or ') || 'machine');
}

/** The labels the pod will carry after quarantine, computed from the facts. */
export function quarantinedLabels(
  pod: PodFacts,
  incident: string,
): { labels: Record<string, string>; unbreakable: string[] } {
  const marked = { ...pod.labels, ...quarantineLabels(incident, pod) };
  const { patch, unbreakable } = detachingLabelPatch(marked, pod.holdingSelectors);
  return { labels: applyLabelPatch(marked, patch), unbreakable };
}

/** What quarantine cannot do for this pod, said before it runs. */
function podLimitations(pod: PodFacts, kase: Case, facts: KubeFacts, claimants: Claimants): string[] {
  const key = `${pod.namespace}/${pod.name}`;
  const out: string[] = [];
  const after = quarantinedLabels(pod, kase.incident);
  for (const source of after.unbreakable)
    out.push(`${source} selects every pod of ${pod.namespace}: no label change takes ${key} out of it`);
  for (const p of pod.policies) {
    if (p.allows && selects(p.podSelector, after.labels)) {
      out.push(
        `NetworkPolicy ${pod.namespace}/${p.name} still selects ${key} after quarantine and NetworkPolicies add up: its allow rules stay open to the pod`,
      );
    }
  }
  const owner = pod.owners[0];
  const node = pod.nodeName ?? '(no node)';
  if (pod.hostNetwork) {
    const providerID = facts.nodes.find((n) => n.name === pod.nodeName)?.providerID ?? null;
    out.push(
      `${key} uses the host network: NetworkPolicies do not apply to it, so the quarantine NetworkPolicy cannot isolate it; --isolate-node isolates its node's ${machineNoun(claimants, providerID)} (every pod on ${node} with it)`,
    );
  }
  if (owner?.kind === 'DaemonSet')
    out.push(
      `DaemonSet ${owner.name} starts a replacement for ${key} on node ${node} although it is cordoned: DaemonSet pods tolerate node.kubernetes.io/unschedulable`,
    );
  if (owner?.kind === 'Job') {
    const cron = pod.owners.find((o) => o.kind === 'CronJob');
    out.push(
      `Job ${owner.name} starts a new pod when ${key} leaves it: holdfast takes the pod out, then suspends the Job at once${cron ? ` and its CronJob ${cron.name}` : ''} (release resumes ${cron ? 'them' : 'it'}); a pod the Job created in between is deleted by the suspension`,
    );
  }
  if (owner && owner.controller !== false && owner.kind !== 'Node' && pod.controllerSelectorReadable === false)
    out.push(
      `${owner.kind} ${owner.name} has no label selector holdfast can read${owner.unreadable ? ` (${owner.unreadable})` : ''}: its ownerReference is removed from ${key} so garbage collection cannot delete the pod with it; its controller may adopt the pod again`,
    );
  if (owner?.kind === 'StatefulSet')
    out.push(
      `StatefulSet ${owner.name} cannot start a replacement for ${key} while the pod keeps its name: the set runs one replica short until release`,
    );
  if (owner?.kind === 'Node')
    out.push(
      `${key} is a static pod of its node's kubelet: its labels come from the node's manifest and the kubelet may restore them`,
    );
  if (!pod.nodeName) out.push(`${key} is not scheduled on a node: no logs, no checkpoint, nothing to cordon`);
  return out;
}

/**
 * `claimants` names the machines behind the nodes: the provider that recognises a node's providerID
 * (ec2 for `aws:///…`) and its words. Its notes follow the CNI limitation.
 */
export function planKube(
  facts: KubeFacts,
  kase: Case,
  claimants: Claimants,
): { steps: StepDraft<KubeStep>[]; limitations: string[] } {
  const steps: StepDraft<KubeStep>[] = [];
  const limitations = [...KUBE_LIMITATIONS, ...claimants.machineNotes, ...(facts.pods.length ? [PDB_LIMITATION] : [])];
  const machineOf = (name: string | null) =>
    claimants.machine(facts.nodes.find((n) => n.name === name)?.providerID ?? null);
  const nodeIsolated = (name: string | null) => facts.params.isolateNode && Boolean(machineOf(name));
  for (const pod of facts.pods) {
    const key = `${pod.namespace}/${pod.name}`;
    const target = `k8s:pod:${key}`;
    const inputs: PodStepInputs = { pod, objectName: quarantineObjectName(kase.incident, pod.name) };
    const holding = pod.holdingSelectors.map((s) => s.source).join(', ');
    steps.push({
      id: `collect/${key}`,
      action: 'collect',
      phase: 'collect',
      target,
      title: `record ${key}: object, owners, services, policies, events, logs of every container`,
      inputs,
    });
    if (facts.params.checkpoint && pod.nodeName) {
      steps.push({
        id: `checkpoint/${key}`,
        action: 'checkpoint',
        phase: 'collect',
        target,
        title: `ask the kubelet on ${pod.nodeName} to checkpoint ${key}'s containers`,
        inputs,
      });
    }
    steps.push(
      {
        id: `quarantine-policy/${key}`,
        action: 'quarantine-policy',
        phase: 'contain',
        target,
        title: `NetworkPolicy ${inputs.objectName}: ingress only from the forensic CIDRs, no egress`,
        inputs,
      },
      {
        id: `quarantine-labels/${key}`,
        action: 'quarantine-labels',
        phase: 'contain',
        target,
        title: holding
          ? `label ${key} quarantined, then take it out of ${holding}`
          : `label ${key} quarantined (no controller or Service selects it)`,
        inputs,
        dependsOn: [`quarantine-policy/${key}`],
      },
      {
        id: `eviction-protection/${key}`,
        action: 'eviction-protection',
        phase: 'contain',
        target,
        title: `protect ${key} from eviction: its own PodDisruptionBudget (minAvailable 1), autoscaler annotations${
          facts.params.tolerateNodeFailure ? ', node-failure tolerations with no time limit' : ''
        }`,
        inputs,
        dependsOn: [`quarantine-labels/${key}`],
      },
    );
    // Planned to fail: without the node's isolation the pod is not cut off, so the capture is partial.
    if (pod.hostNetwork && !nodeIsolated(pod.nodeName))
      steps.push({
        id: `host-network/${key}`,
        action: 'host-network',
        phase: 'contain',
        target,
        title: `${key} uses the host network: the NetworkPolicy cannot isolate it; without --isolate-node this step fails and the capture is partial`,
        inputs,
        dependsOn: [`quarantine-policy/${key}`],
      });
    limitations.push(...podLimitations(pod, kase, facts, claimants));
  }
  for (const node of facts.nodes) {
    const target = `k8s:node:${node.name}`;
    const machine = claimants.machine(node.providerID);
    const inputs = { node: { ...node, instanceId: machine?.id ?? null } };
    const onNode = facts.pods
      .filter((p) => p.nodeName === node.name)
      .map((p) => `eviction-protection/${p.namespace}/${p.name}`);
    const daemonSets = facts.pods
      .filter((p) => p.nodeName === node.name && p.owners[0]?.kind === 'DaemonSet')
      .map((p) => `${p.namespace}/${p.owners[0]!.name}`);
    steps.push(
      {
        id: `node-record/${node.name}`,
        action: 'node-record',
        phase: 'collect',
        target,
        title: `record node ${node.name}${machine ? ` (${machine.short} ${machine.id})` : ''}`,
        inputs,
      },
      {
        id: `cordon/${node.name}`,
        action: 'cordon',
        phase: 'contain',
        target,
        title: `cordon ${node.name} (unschedulable, labelled, this incident added to its holders; never drain, never NoExecute)${
          daemonSets.length ? `; DaemonSet ${daemonSets.join(', ')} still runs a pod there` : ''
        }`,
        inputs,
        dependsOn: onNode,
      },
    );
    if (facts.params.isolateNode) {
      limitations.push(
        machine
          ? `--isolate-node: node ${node.name} is ${machine.noun} ${machine.id} (spec.providerID); the ${machine.provider} provider ${machine.does}`
          : `--isolate-node: node ${node.name} has no ${claimants.machineClouds.join(' or ') || 'recognised'} providerID (${node.providerID ?? 'none'}); its machine is not isolated`,
      );
    }
  }
  if (facts.pods.length) limitations.push(...forensicAccessDecision(kase, 'the quarantine NetworkPolicies'));
  return { steps, limitations };
}

/**
 * What the facts say about other providers' domains, naming none: the machine each node runs on
 * (handed over with --isolate-node) and, when read, the cloud roles the targeted pods run as, with
 * every other service account naming a role (who else holds it). engine/claims.ts matches them.
 */
export function kubeFindings(facts: KubeFacts): Finding[] {
  const out: Finding[] = facts.nodes.flatMap((n) =>
    n.providerID ? [{ kind: 'machine' as const, providerID: n.providerID, target: facts.params.isolateNode }] : [],
  );
  const accounts = facts.serviceAccountRoles ?? [];
  for (const p of facts.pods) {
    const serviceAccount = `${p.namespace}/${p.serviceAccount}`;
    for (const a of accounts)
      if (p.serviceAccount && a.serviceAccount === serviceAccount)
        out.push({ kind: 'role', ...a, pod: `${p.namespace}/${p.name}` });
  }
  for (const a of accounts) out.push({ kind: 'role', ...a });
  return out;
}
