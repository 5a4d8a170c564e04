/** The IAM provider's actions: the inputs its planner writes and the outputs its runners return. */
import type { StepContext, StepOf, StepOutcome } from '../../src/core/types.js';
import type { BlastRadius, RoleReason } from './facts.js';

/** Every IAM action, keyed by name. */
export type IamActions = {
  'record-role': {
    inputs: { roleName: string; roleArn: string; reasons: RoleReason[]; blastRadius: BlastRadius };
    outputs: { artifact: string };
  };
  'record-user': { inputs: { userName: string; userArn: string }; outputs: { artifact: string } };
  'revoke-sessions': {
    inputs: {
      roleName: string;
      roleArn: string;
      policyName: string;
      policyArn: string;
      blastRadius: BlastRadius;
      blastRadiusText: string;
    };
    /** `contained`: lines the sitrep lists under Contained. */
    outputs: { policyArn: string; notBefore: string; contained: string[] };
  };
  'deactivate-keys': {
    inputs: { userName: string; userArn: string; activeKeys: string[] };
    outputs: { deactivated: string[]; contained: string[] };
  };
};

/** One IAM step, narrowed by `action`. */
export type IamStep<A extends keyof IamActions = keyof IamActions> = StepOf<IamActions, A>;

/** What the runner of `A` returns. */
export type IamOutcome<A extends keyof IamActions> = StepOutcome<IamActions[A]['outputs']>;

/** The context the runner of `A` gets. */
export type IamStepContext<A extends keyof IamActions> = StepContext<IamStep<A>>;
