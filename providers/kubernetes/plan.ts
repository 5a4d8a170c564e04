/** Pure: Kubernetes facts → steps. Keep the suspect pod, and only it, alive, cut off and protected. */
import type { Case, JsonObject, StepDraft } from '../../src/types.js';
import type { KubeFacts } from './facts.js';

export const KUBE_LIMITATIONS = [
  'a NetworkPolicy is enforced only if the cluster network plugin (CNI) enforces policies; whether established connections are cut is also up to the CNI',
  "the EKS VPC CNI does not enforce NetworkPolicies on pods without an owner — which is what taking the pod out of its controller produces; use --isolate-node to isolate the node's EC2 instance as well",
];

/** Kubernetes object names: lower case, at most 63 characters for labels' sake. */
export function holdfastObjectName(incident: string, pod: string): string {
  return `holdfast-${incident}-${pod}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63).replace(/-+$/, '');
}

export function planKube(facts: KubeFacts, kase: Case): { steps: StepDraft[]; limitations: string[] } {
  const steps: StepDraft[] = [];
  const limitations = [...KUBE_LIMITATIONS];
  for (const pod of facts.pods) {
    const key = `${pod.namespace}/${pod.name}`;
    const target = `k8s:pod:${key}`;
    const inputs = { pod: pod as unknown as JsonObject, objectName: holdfastObjectName(kase.incident, pod.name) };
    steps.push(
      { id: `protect/${key}`, action: 'protect', phase: 'preserve', target, title: `protect ${key} from eviction (quarantine label, PDB, autoscaler annotations)`, inputs },
      { id: `collect/${key}`, action: 'collect', phase: 'collect', target, title: `record ${key}: object, owners, node, services, policies, events, logs`, inputs },
    );
    if (facts.params.checkpoint) steps.push({ id: `checkpoint/${key}`, action: 'checkpoint', phase: 'collect', target, title: `ask the kubelet to checkpoint ${key}'s containers`, inputs });
    steps.push(
      { id: `quarantine-policy/${key}`, action: 'quarantine-policy', phase: 'contain', target, title: `NetworkPolicy ${inputs.objectName}: ingress only from the forensic CIDRs, no egress`, inputs },
      {
        id: `orphan/${key}`,
        action: 'orphan',
        phase: 'contain',
        target,
        title: pod.selectorKeys.length ? `take ${key} out of its controller and Services (labels ${pod.selectorKeys.join(', ')})` : `${key} has no controller or Service selecting it`,
        inputs,
        dependsOn: [`quarantine-policy/${key}`],
      },
    );
    if (!pod.nodeName) limitations.push(`${key} is not scheduled on a node: nothing to cordon`);
  }
  for (const node of facts.nodes) {
    const target = `k8s:node:${node.name}`;
    const onNode = facts.pods.filter((p) => p.nodeName === node.name).map((p) => `collect/${p.namespace}/${p.name}`);
    steps.push(
      { id: `node-record/${node.name}`, action: 'node-record', phase: 'collect', target, title: `record node ${node.name}`, inputs: { node } },
      { id: `cordon/${node.name}`, action: 'cordon', phase: 'contain', target, title: `cordon ${node.name} (unschedulable; never drain, never NoExecute)`, inputs: { node }, dependsOn: onNode },
    );
  }
  if (facts.params.isolateNode) {
    for (const n of facts.nodes) {
      if (!n.instanceId) limitations.push(`--isolate-node: ${n.name} has no AWS providerID (${n.providerID ?? 'none'}); its machine is not isolated`);
    }
  }
  if (!kase.forensicCidrs.length) limitations.push('no --forensic-cidr: the quarantine NetworkPolicy admits nobody, forensic access included');
  return { steps, limitations };
}

/** With --isolate-node, the nodes' EC2 instances become targets of the ec2 provider too. */
export function kubeDerivedTargets(facts: KubeFacts): Record<string, JsonObject> {
  if (!facts.params.isolateNode) return {};
  const instances = [...new Set(facts.nodes.map((n) => n.instanceId).filter((i): i is string => Boolean(i)))];
  return instances.length ? { ec2: { instances } } : {};
}
