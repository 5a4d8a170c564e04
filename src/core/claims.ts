/**
 * Findings and claims: the one way a provider hands another what it found in that provider's
 * domain, without naming it. The Kubernetes provider says "node n1 runs on the machine
 * `aws:///…/i-0abc`" or "pod shop/web runs as service account shop/web, whose annotation names
 * cloud role R"; the EC2 provider says "instance i-0abc runs with identity
 * `arn:aws:iam::…:instance-profile/p`"; the providers that own such machines and identities (ec2,
 * iam) declare what they recognise, and engine/claims.ts matches the two. A new cloud adds its
 * claims in its own folder; the finder does not change.
 */
import type { JsonObject } from './types.js';

/** A Kubernetes node runs on the machine its `spec.providerID` names. */
export type MachineFinding = {
  kind: 'machine';
  providerID: string;
  /** Whether the finder asks the machine's provider to take it as a target (--isolate-node). */
  target: boolean;
};

/** A service account's annotation names a cloud role; with `pod`, that targeted pod runs as it. */
export type RoleFinding = {
  kind: 'role';
  /** `namespace/name` of the service account. */
  serviceAccount: string;
  annotation: string;
  role: string;
  /** `namespace/name` of a targeted pod running as the account; absent for every other account naming a role. */
  pod?: string;
};

/** A targeted machine runs with a cloud identity attached to it (an EC2 instance profile). */
export type MachineIdentityFinding = {
  kind: 'machine-identity';
  /** The machine's id as its provider names it (`i-0abc…`). */
  machine: string;
  /** The identity as the cloud names it (an instance profile's ARN). */
  identity: string;
};

export type Finding = MachineFinding | RoleFinding | MachineIdentityFinding;

/** A provider's claim on the machines behind Kubernetes nodes. */
export interface MachineClaim {
  /** The machine's id when the providerID names one of this provider's machines, else undefined. */
  fromProviderId(providerID: string): string | undefined;
  /** This provider's params for the machines a finder hands to it. */
  targets(ids: string[]): JsonObject;
  /** The words a finder's plan uses about these machines. */
  words: {
    /** The cloud whose providerIDs it recognises ('AWS'), for a node whose providerID nobody does. */
    cloud: string;
    /** A machine ('EC2 instance'), and the short form step titles use ('EC2'). */
    noun: string;
    short: string;
    /** What this provider does with a machine handed to it ('preserves, snapshots and isolates it'). */
    does: string;
    /** Said in every plan of a finder of machines: what clusters on this cloud need to know. */
    notes: string[];
  };
}

/** A provider's claim on cloud roles that service-account annotations name. */
export interface RoleClaim {
  /** The service-account annotation that names its roles. */
  annotation: string;
  /** Whether its params ask for those roles: only then does the finder read service accounts. */
  wanted(params: JsonObject): boolean;
  /** This provider's params for the roles found, or undefined when none concerns a targeted pod. */
  targets(found: RoleFinding[]): JsonObject | undefined;
}

/** A provider's claim on the identities attached to machines (instance profiles). */
export interface MachineIdentityClaim {
  /** Whether this provider owns identities named like this one. */
  recognises(identity: string): boolean;
  /** This provider's params for the machine identities found. */
  targets(found: MachineIdentityFinding[]): JsonObject;
}

/** What a provider claims among other providers' findings. */
export interface Claims {
  machines?: MachineClaim;
  roles?: RoleClaim;
  machineIdentities?: MachineIdentityClaim;
}

/** A machine a provider recognised behind a providerID, with the words to name it. */
export type ClaimedMachine = {
  /** The provider that recognised it. */
  provider: string;
  id: string;
  noun: string;
  short: string;
  does: string;
};

/** What every planner is told about the other registered providers' claims (built in engine/claims.ts). */
export interface Claimants {
  /** The machine a providerID names and who recognised it; undefined when no provider does. */
  machine(providerID: string | null): ClaimedMachine | undefined;
  /** For a providerID nobody recognises: the clouds whose providerIDs are recognised ('AWS'). */
  machineClouds: string[];
  /** What the recognised machines are called ('EC2 instance'), for a node whose machine is not known. */
  machineNouns: string[];
  /** The machine claimants' notes for every plan of a finder of machines. */
  machineNotes: string[];
}
