/** The Kubernetes provider's params and facts (plain data). */
import type { JsonObject } from '../../src/types.js';

/** RBAC role that grants everything this provider calls. */
export const KUBE_POLICY = 'policies/kubernetes/capture-role.yaml';

export interface KubeParams extends JsonObject {
  pods: string[];
  podSelectors: string[];
  nodes: string[];
  kubeconfig: string | null;
  context: string | null;
  checkpoint: boolean;
  isolateNode: boolean;
}

export interface PodFacts extends JsonObject {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeName: string | null;
  containers: string[];
  initContainers: string[];
  owners: { kind: string; name: string; uid: string }[];
  /** Label keys that the owning controller's and the matching Services' selectors use. */
  selectorKeys: string[];
  services: string[];
  policies: string[];
  pdbs: string[];
}

export interface NodeFacts extends JsonObject {
  name: string;
  uid: string;
  unschedulable: boolean;
  providerID: string | null;
  /** EC2 instance id from an EKS providerID (aws:///zone/i-…). */
  instanceId: string | null;
}

export interface KubeFacts {
  params: KubeParams;
  pods: PodFacts[];
  nodes: NodeFacts[];
}

/** The label that marks a pod as quarantined; the NetworkPolicy and PDB select it. */
export const QUARANTINE_LABEL = 'holdfast.io/quarantine';
export const CORDON_LABEL = 'holdfast.io/cordoned';
export const EVICTION_ANNOTATIONS = {
  'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false',
  'karpenter.sh/do-not-disrupt': 'true',
} as const;
