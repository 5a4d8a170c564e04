/** The Kubernetes provider's params, facts (plain data) and the names it puts on the cluster. */
import type { JsonObject } from '../../src/core/types.js';

/** RBAC role that grants everything this provider calls (except --checkpoint). */
export const KUBE_POLICY = 'policies/kubernetes/capture-role.yaml';
/** Optional role for --checkpoint: the node proxy reaches every kubelet endpoint, so it is separate. */
export const KUBE_CHECKPOINT_POLICY = 'policies/kubernetes/checkpoint-role.yaml';
/**
 * Optional role for reading service accounts and the cloud roles their annotations name, asked for
 * by another provider (iam's --revoke-pod-roles, IRSA: hence the file name).
 */
export const KUBE_IRSA_POLICY = 'policies/kubernetes/irsa-role.yaml';

/** The label that marks a pod as quarantined; the NetworkPolicy selects it. */
export const QUARANTINE_LABEL = 'holdfast.io/quarantine';
/**
 * Carries the pod's uid so each PodDisruptionBudget covers exactly one pod: a budget of
 * `minAvailable: 1` over two quarantined pods would still let one of them be evicted.
 */
export const QUARANTINE_POD_LABEL = 'holdfast.io/quarantine-pod';
/** Marks a node cordoned for an incident, so responders see why it takes no pods. */
export const CORDON_LABEL = 'holdfast.io/cordoned';
/**
 * On a node: the incidents holding its cordon, comma-separated. Release uncordons only when the last
 * holder lets go, and only if holdfast cordoned it (the CORDON_LABEL names the incident that did).
 */
export const CORDON_HOLDERS_ANNOTATION = 'holdfast.io/cordon-holders';
/** The ReplicaSet controller deletes pods with a lower cost first (ties broken by its ranking). */
export const DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';
/** The highest cost the annotation accepts (an int32): the evidence pod becomes the last choice. */
export const MAX_DELETION_COST = '2147483647';
/** Taints the node lifecycle controller puts on a failing node; pods are evicted after tolerationSeconds. */
export const NODE_FAILURE_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'] as const;
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
  /** Opt-in: tolerate the node-failure NoExecute taints forever, so a failing node does not evict the pod. */
  tolerateNodeFailure?: boolean;
}

/** One ownerReference of the chain, with where its object is served (found through API discovery). */
export interface OwnerFacts extends JsonObject {
  kind: string;
  name: string;
  uid: string;
  apiVersion?: string;
  /** REST path of the owner object; null when discovery found no namespaced resource of that kind. */
  path?: string | null;
  /** Whether this reference is the controller reference (the one a controller acts on). */
  controller?: boolean;
  /** Why the owner could not be read (permission, not served), when it could not. */
  unreadable?: string;
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
  owners: OwnerFacts[];
  /** NetworkPolicies do not apply to pods on the host's network namespace. */
  hostNetwork?: boolean;
  /**
   * Whether the direct controller's `spec.selector` could be read as a label selector: when not,
   * relabelling cannot be shown to take the pod out, so its ownerReference is removed instead.
   */
  controllerSelectorReadable?: boolean;
  /** The owning controller's selector and the selectors of the Services that match the pod. */
  holdingSelectors: HoldingSelector[];
  services: string[];
  policies: PolicyFacts[];
  pdbs: string[];
  /** The pod's service account, read when another provider asks for the cloud roles pods run as. */
  serviceAccount?: string;
}

export interface NodeFacts extends JsonObject {
  name: string;
  uid: string;
  unschedulable: boolean;
  /** Names the machine the node runs on (`spec.providerID`); the provider that recognises it owns the machine. */
  providerID: string | null;
}

/** A service account whose annotation names a cloud role (read only when a provider asks for that annotation). */
export type ServiceAccountRole = {
  /** `namespace/name` */
  serviceAccount: string;
  annotation: string;
  role: string;
};

export interface KubeFacts {
  params: KubeParams;
  pods: PodFacts[];
  nodes: NodeFacts[];
  /** When a provider asks for the cloud roles pods run as: every service account in the cluster naming one. */
  serviceAccountRoles?: ServiceAccountRole[];
}

/** Step inputs of the pod steps. */
export type PodStepInputs = {
  pod: PodFacts;
  /** Name of the quarantine NetworkPolicy and PodDisruptionBudget. */
  objectName: string;
};
