/** The EC2 provider's params and discovered facts: plain data. */
import type { JsonObject } from '../../src/core/types.js';

/** Policy file that grants everything this provider calls. */
export const EC2_POLICY = 'policies/aws/ec2.json';

/** The EC2 provider's validated params (flags or case file). */
export interface Ec2Params extends JsonObject {
  instances: string[];
  instanceTags: string[];
  lockSnapshotsDays: number | null;
  copyToAccount: string | null;
  kmsKey: string | null;
  /** After each snapshot set completes, read every snapshot through the EBS direct APIs and record its image SHA-256. */
  hashSnapshots: boolean;
  /** --memory: acquire each Linux instance's memory through SSM (also implied at severity high for SSM-managed instances). */
  memory?: boolean;
  /** --avml-binary: the AVML to run on the hosts, instead of the one scripts/build-avml.sh built into the cache. */
  avmlBinary?: string;
  /** --memory-timeout: seconds one acquisition may take before containment goes on without it. */
  memoryTimeoutSeconds?: number;
}

/** The AVML binary holdfast sends to hosts, as discovery found it. */
export type AvmlTool = { path: string; version: string; sha256: string };

/** What discovery read for the memory step of one instance. */
export type MemoryFacts = {
  /** `windows` or `linux` (DescribeInstances' Platform; absent means Linux). */
  platform: 'linux' | 'windows';
  /** DescribeInstanceInformation: `online` (agent pinging), `offline`, `not-managed`, or `unknown` when it could not be read. */
  ssm: 'online' | 'offline' | 'not-managed' | 'unknown';
  /** Why `ssm` is unknown or offline (error name, ping status). */
  ssmDetail?: string;
  /** Memory of the instance type (DescribeInstanceTypes), to size the upload. */
  memoryMiB?: number;
};

/** Discovery's memory facts, present only when memory may be acquired (--memory or severity high). */
export type Ec2MemoryFacts = {
  /** Whether --memory asked for it (else severity high implied it). */
  explicit: boolean;
  tool?: AvmlTool;
  /** Why there is no tool (implied memory only; --memory without one is bad input). */
  toolProblem?: string;
  timeoutSeconds: number;
  instances: Record<string, MemoryFacts>;
};

/** One network interface as discovered. */
export type EniFacts = {
  id: string;
  vpcId: string;
  subnetId: string;
  groups: string[];
  requesterManaged: boolean;
  deviceIndex: number;
};

/** One load-balancer target group the instance is registered in. */
export type TargetRegistration = { targetGroupArn: string; port?: number };

/** One attached EBS volume as discovered. */
export type VolumeFacts = {
  id: string;
  device: string;
  deleteOnTermination: boolean;
  sizeGiB: number;
  encrypted: boolean;
  kmsKeyId?: string;
};

/** Everything discovery read about one instance. */
export type InstanceFacts = {
  instanceId: string;
  state: string;
  spot: boolean;
  rootDeviceType: string;
  vpcId: string;
  availabilityZone: string;
  /** The owning account (from the reservation), for the artifact's source. */
  accountId?: string;
  instanceProfile?: string;
  tags: Record<string, string>;
  enis: EniFacts[];
  volumes: VolumeFacts[];
  autoScaling?: { group: string; lifecycleState: string; targetGroupArns: string[] };
  registrations: TargetRegistration[];
  /** The holdfast:* tags found on the instance, its volumes and interfaces (resource id → tags); only those that have some. */
  holdfastTags?: Record<string, Record<string, string>>;
  /** Another incident's containment in place on it: its interfaces on that incident's isolation or convert group. */
  heldBy?: { incident: string; evidence: string[] };
};

/** The EC2 provider's discovered facts: plain, serialisable data. */
export type Ec2Facts = {
  region: string;
  params: Ec2Params;
  instances: InstanceFacts[];
  memory?: Ec2MemoryFacts;
};
