/** The EC2 provider's actions: the inputs its planner writes and the outputs its runners return. */
import type { IsolationGroupAction } from '../../src/aws/isolation-group.js';
import { outputReader } from '../../src/core/provider-kit.js';
import type { NoOutputs, StepContext, StepOf, StepOutcome } from '../../src/core/types.js';
import type { EniFacts, InstanceFacts, TargetRegistration } from './facts.js';

/** Every EC2 action, keyed by name. */
export type Ec2Actions = {
  tag: {
    /** `observed`: the holdfast:* tags discovery found per resource (the `before` each change records). */
    inputs: { instanceId: string; resources: string[]; observed?: Record<string, Record<string, string>> };
    outputs: { tagged: string[] };
  };
  protect: {
    inputs: { instanceId: string; stopProtectionBlocker: string | null; volumes: { id: string; device: string }[] };
    outputs: NoOutputs;
  };
  standby: { inputs: { instanceId: string; group: string }; outputs: { group: string } };
  describe: { inputs: { instanceId: string; region: string; facts: InstanceFacts }; outputs: NoOutputs };
  snapshot: {
    inputs: { instanceId: string; volumes: string[]; region: string; lockDays: number | null };
    outputs: { snapshotIds: string[]; adopted: boolean };
  };
  deregister: { inputs: { instanceId: string; registrations: TargetRegistration[] }; outputs: NoOutputs };
  'isolation-group': IsolationGroupAction;
  isolate: { inputs: { instanceId: string; enis: EniFacts[] }; outputs: { isolated: string[]; contained: string[] } };
  settle: {
    inputs: {
      instanceId: string;
      /** Id of the snapshot step whose set this step waits for. */
      snapshotStep: string;
      region: string;
      lockDays: number | null;
      copyToAccount: string | null;
      kmsKey: string | null;
    };
    outputs: { completed: string[]; copies: string[] };
  };
  /** --hash-snapshots: evidence work after settle, never before containment. */
  'hash-snapshots': {
    inputs: {
      instanceId: string;
      /** Id of the snapshot step whose set is hashed (its artifacts gain method.imageSha256). */
      snapshotStep: string;
      region: string;
    };
    outputs: { hashed: SnapshotImageRecord[] };
  };
  /** --memory: AVML over SSM Run Command, uploaded by the host through presigned URLs; never fails containment. */
  memory: { inputs: MemoryInputs; outputs: MemoryAcquisition };
  /** After containment: the image in the store decides whether memory was taken (hashed here, header read). */
  'memory-image': {
    inputs: { instanceId: string; region: string; acquireStep: string; avml: { version: string; sha256: string } };
    outputs: { sha256: string; size: number; format: string };
  };
};

/** What the planner fixes for one memory acquisition. */
export type MemoryInputs = {
  instanceId: string;
  region: string;
  avml: { version: string; sha256: string };
  timeoutSeconds: number;
  /** 1: one presigned PutObject; more: UploadPart URLs of one multipart upload, `partMiB` each. */
  parts: number;
  partMiB: number;
};

/** How an acquisition ended, as far as the host and SSM said (advisory: the image decides). */
export type MemoryAcquisition = {
  outcome: 'uploaded' | 'timed-out' | 'host-failed' | 'not-sent';
  reason: string | null;
  commandId: string | null;
  ssmStatus: string | null;
  uploadId: string | null;
  toolArtifact: string | null;
  /** The host's receipt: the size and SHA-256 of the image as it read them, AVML's exit code. */
  receipt: { size: number; sha256: string; avmlExit: number } | null;
};

/** What --hash-snapshots records of one snapshot (also added to its artifact's `method`). */
export type SnapshotImageRecord = {
  snapshotId: string;
  imageSha256: string;
  imageSize: number;
  imageBlockSize: number;
  imageWrittenBlocks: number;
};

/** One EC2 step, narrowed by `action`. */
export type Ec2Step<A extends keyof Ec2Actions = keyof Ec2Actions> = StepOf<Ec2Actions, A>;

/** What the runner of `A` returns. */
export type Ec2Outcome<A extends keyof Ec2Actions> = StepOutcome<Ec2Actions[A]['outputs']>;

/** The context the runner of `A` gets. */
export type Ec2StepContext<A extends keyof Ec2Actions> = StepContext<Ec2Step<A>>;

/** The outputs an earlier EC2 step returned, typed by its action. */
export const ec2OutputOf = outputReader<Ec2Actions>();
