/**
 * Pure: Kubernetes facts → steps. Keep the suspect pod, and only it, alive, cut off and protected.
 * Per pod: collect first (events expire), then quarantine in this order — NetworkPolicy, labels
 * (quarantine label, then the holding selectors' keys), eviction protection — then cordon its node.
 */
import type { Case, JsonObject, StepDraft } from '../../src/core/types.js';
import type { KubeFacts, PodFacts, PodStepInputs } from './facts.js';
import { quarantineLabels, quarantineObjectName } from './objects.js';
import { applyLabelPatch, detachingLabelPatch, selects } from './selectors.js';
import type { KubeStep } from './steps.js';

export const KUBE_LIMITATIONS = [
  'a NetworkPolicy is enforced only if the cluster network plugin (CNI) enforces policies; whether established connections are cut is also up to the CNI',
  "the EKS VPC CNI does not enforce NetworkPolicies on pods without an owner — which is what taking the pod out of its controller produces (the controller releases it); use --isolate-node to isolate the node's EC2 instance as well",
];

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
function podLimitations(pod: PodFacts, kase: Case): string[] {
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

export function planKube(facts: KubeFacts, kase: Case): { steps: StepDraft<KubeStep>[]; limitations: string[] } {
  const steps: StepDraft<KubeStep>[] = [];
  const limitations = [...KUBE_LIMITATIONS];
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
        title: `protect ${key} from eviction: its own PodDisruptionBudget (minAvailable 1), autoscaler annotations`,
        inputs,
        dependsOn: [`quarantine-labels/${key}`],
      },
    );
    limitations.push(...podLimitations(pod, kase));
  }
  for (const node of facts.nodes) {
    const target = `k8s:node:${node.name}`;
    const onNode = facts.pods
      .filter((p) => p.nodeName === node.name)
      .map((p) => `eviction-protection/${p.namespace}/${p.name}`);
    steps.push(
      {
        id: `node-record/${node.name}`,
        action: 'node-record',
        phase: 'collect',
        target,
        title: `record node ${node.name}${node.instanceId ? ` (EC2 ${node.instanceId})` : ''}`,
        inputs: { node },
      },
      {
        id: `cordon/${node.name}`,
        action: 'cordon',
        phase: 'contain',
        target,
        title: `cordon ${node.name} (unschedulable and labelled; never drain, never NoExecute)`,
        inputs: { node },
        dependsOn: onNode,
      },
    );
    if (facts.params.isolateNode) {
      limitations.push(
        node.instanceId
          ? `--isolate-node: node ${node.name} is EC2 instance ${node.instanceId} (spec.providerID); the ec2 provider preserves, snapshots and isolates it`
          : `--isolate-node: node ${node.name} has no AWS providerID (${node.providerID ?? 'none'}); its machine is not isolated`,
      );
    }
  }
  if (!kase.forensicCidrs.length)
    limitations.push('no --forensic-cidr: the quarantine NetworkPolicy admits nobody, forensic access included');
  return { steps, limitations };
}

/** With --isolate-node, the nodes' EC2 instances become targets of the ec2 provider too. */
export function kubeDerivedTargets(facts: KubeFacts): Record<string, JsonObject> {
  const derived: Record<string, JsonObject> = {};
  if (facts.params.isolateNode) {
    const instances = [...new Set(facts.nodes.map((n) => n.instanceId).filter((i): i is string => Boolean(i)))];
    if (instances.length) derived.ec2 = { instances };
  }
  // IRSA roles (read only with --revoke-pod-roles) go to the iam provider with their blast radius.
  const podRoles = facts.pods.filter((p) => p.awsRoleArn).map((p) => `${p.namespace}/${p.name}=${p.awsRoleArn}`);
  if (podRoles.length) derived.iam = { podRoles, podRoleServiceAccounts: facts.roleServiceAccounts ?? [] };
  return derived;
}
