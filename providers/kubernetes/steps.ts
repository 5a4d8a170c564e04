/** The Kubernetes provider's actions: the inputs its planner writes and the outputs its runners return. */
import type { StepContext, StepOf, StepOutcome } from '../../src/core/types.js';
import type { NodeFacts, PodStepInputs } from './facts.js';

/** Inputs of the node steps. */
export type NodeStepInputs = {
  node: NodeFacts & {
    /**
     * The machine's id, from the provider that recognised the node's providerID (an EC2 instance
     * id), or null. Named before other clouds; kept so that plans keep their digests.
     */
    instanceId: string | null;
  };
};

/** Every Kubernetes action, keyed by name. */
export type KubeActions = {
  collect: { inputs: PodStepInputs; outputs: { logsRead: string[]; events: number } };
  checkpoint: { inputs: PodStepInputs; outputs: { archivesOnNode: string[] } };
  'node-record': { inputs: NodeStepInputs; outputs: { providerID: string | null; instanceId: string | null } };
  'quarantine-policy': { inputs: PodStepInputs; outputs: { networkPolicy: string; created: boolean } };
  'quarantine-labels': {
    inputs: PodStepInputs;
    outputs: {
      originalLabels: Record<string, string>;
      quarantineLabels: string[];
      detachedLabels: string[];
      leftSelectors: string[];
      /** Set when the pod had a controller: which, whether holdfast removed its reference, what it suspended. */
      leftController?: string;
      removedReference?: boolean;
      suspended?: string[];
    };
  };
  'eviction-protection': {
    inputs: PodStepInputs;
    outputs: { podDisruptionBudget: string; created: boolean; annotations: string[]; tolerationsChanged: boolean };
  };
  cordon: { inputs: NodeStepInputs; outputs: { cordoned: boolean; alreadyCordoned: boolean; holders: string[] } };
  /** Fails for a hostNetwork pod whose node is not isolated: the capture must not say complete. */
  'host-network': { inputs: PodStepInputs; outputs: { hostNetwork: boolean } };
};

/** One Kubernetes step, narrowed by `action`. */
export type KubeStep<A extends keyof KubeActions = keyof KubeActions> = StepOf<KubeActions, A>;

/** What the runner of `A` returns. */
export type KubeOutcome<A extends keyof KubeActions> = StepOutcome<KubeActions[A]['outputs']>;

/** The context the runner of `A` gets. */
export type KubeStepContext<A extends keyof KubeActions> = StepContext<KubeStep<A>>;
