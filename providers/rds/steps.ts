/** The RDS provider's actions: the inputs its planner writes and the outputs its runners return. */
import type { IsolationGroupAction } from '../../src/aws/isolation-group.js';
import { outputReader } from '../../src/core/provider-kit.js';
import type { JsonObject, NoOutputs, StepContext, StepOf, StepOutcome } from '../../src/core/types.js';
import type { DbFacts } from './facts.js';

/** A DB instance or an Aurora cluster. */
export type DbKind = DbFacts['kind'];

/** Every RDS action, keyed by name. */
export type RdsActions = {
  protect: { inputs: { kind: DbKind; id: string; arn: string; deletionProtection: boolean }; outputs: NoOutputs };
  snapshot: {
    inputs: { kind: DbKind; id: string; snapshotId: string; region: string; engine: string; members: string[] };
    outputs: { snapshotId: string; adopted: boolean };
  };
  'isolation-group': IsolationGroupAction;
  isolate: {
    inputs: {
      kind: DbKind;
      id: string;
      vpcId: string;
      /** Where dumps of this database connect; containment waits for them (relate). */
      endpoint: string | null;
      pendingModifiedValues: JsonObject;
      approvePending: boolean;
    };
    outputs: NoOutputs;
  };
  settle: { inputs: { kind: DbKind; id: string; snapshotId: string }; outputs: { snapshotId: string; status: string } };
};

/** One RDS step, narrowed by `action`. */
export type RdsStep<A extends keyof RdsActions = keyof RdsActions> = StepOf<RdsActions, A>;

/** What the runner of `A` returns. */
export type RdsOutcome<A extends keyof RdsActions> = StepOutcome<RdsActions[A]['outputs']>;

/** The context the runner of `A` gets. */
export type RdsStepContext<A extends keyof RdsActions> = StepContext<RdsStep<A>>;

/** The outputs an earlier RDS step returned, typed by its action. */
export const rdsOutputOf = outputReader<RdsActions>();
