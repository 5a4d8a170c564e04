/** The Kubernetes provider's params, facts (plain data) and the names it puts on the cluster. */
import type { JsonObject } from '../../src/core/types.js';

/** RBAC role that grants everything this provider calls (except --checkpoint). */
export const KUBE_POLICY = 'policies/kubernetes/capture-role.yaml';
/** Optional role for --checkpoint: the node proxy reaches every kubelet endpoint, so it is separate. */
export const KUBE_CHECKPOINT_POLICY = 'policies/kubernetes/checkpoint-role.yaml';
/** Optional role for IRSA (`iam` provider's --revoke-pod-roles): list service accounts and their role annotation. */
export const KUBE_IRSA_POLICY = 'policies/kubernetes/irsa-role.yaml';
/** The service-account annotation that gives its pods an IAM role on EKS (IRSA). */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** The label that marks a pod as quarantined; the NetworkPolicy selects it. */
export const QUARANTINE_LABEL = 'holdfast.io/quarantine';
/**
 * Carries the pod's uid so each PodDisruptionBudget covers exactly one pod: a budget of
 * `minAvailable: 1` over two quarantined pods would still let one of them be evicted.
 */
export const QUARANTINE_POD_LABEL = 'holdfast.io/quarantine-pod';
/** Marks a node cordoned for an incident, so responders see why it takes no pods. */
export const CORDON_LABEL = 'holdfast.io/cordoned';
export const EVICTION_ANNOTATIONS = {
  'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false',
  'karpenter.sh/do-not-disrupt': 'true',
} as const;

export interface KubeParams extends JsonObject {
  pods: string[];
  podSelectors: string[];
  nodes: string[];
  kubeconfig: string | null;
  context: string | null;
  checkpoint: boolean;
  isolateNode: boolean;
}

/** A Kubernetes label selector (matchLabels and matchExpressions), as the API returns it. */
export type LabelSelector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};

/** A selector that selects the pod and would keep it in a controller or a Service. */
export type HoldingSelector = {
  /** e.g. `ReplicaSet web-5d4f`, `Service web` */
  source: string;
  selector: LabelSelector;
};

/** A NetworkPolicy that selects the pod before quarantine. */
export type PolicyFacts = {
  name: string;
  podSelector: LabelSelector;
  /** Whether it has any allow rule: NetworkPolicies add up, so its rules widen the quarantine. */
  allows: boolean;
};

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
  /** ownerReferences from the pod up to the top controller (ReplicaSet → Deployment, Job → CronJob…). */
  owners: { kind: string; name: string; uid: string }[];
  /** The owning controller's selector and the selectors of the Services that match the pod. */
  holdingSelectors: HoldingSelector[];
  services: string[];
  policies: PolicyFacts[];
  pdbs: string[];
  /** The pod's service account and, when read (--revoke-pod-roles), its IRSA role. */
  serviceAccount?: string;
  awsRoleArn?: string;
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
  /** With --revoke-pod-roles: every service account in the cluster with an IRSA role, `namespace/name=<role ARN>`. */
  roleServiceAccounts?: string[];
}

/** Step inputs of the pod steps. */
export type PodStepInputs = {
  pod: PodFacts;
  /** Name of the quarantine NetworkPolicy and PodDisruptionBudget. */
  objectName: string;
};
