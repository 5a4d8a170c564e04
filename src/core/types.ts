/**
 * The shared data shapes of holdfast: case, plan, steps, outcomes, stores and the provider contract.
 * Everything here is plain, JSON-serialisable data except the contexts handed to providers.
 */
import type { Readable } from 'node:stream';
import type { Claimants, Claims, Finding } from './claims.js';
import type { CaptureEvent } from './events.js';
import type { CallCounts } from './call-meter.js';
import type { CloudErrorClassifier, InputProblem } from './errors.js';

/** Phases run in this order per target; a step waits only for earlier phases of its own target. */
export const PHASES = ['preserve', 'collect', 'contain', 'settle', 'seal'] as const;
export type Phase = (typeof PHASES)[number];

export const SEVERITIES = ['high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Where evidence bytes go. */
export type StoreSpec =
  | { kind: 'fs'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      retainDays: number;
      retentionMode: 'COMPLIANCE' | 'GOVERNANCE';
      legalHold: boolean;
      allowUnlocked: boolean;
    };

/** A validated capture request. Built only by `parseCase`. Plain JSON: it is journaled and saved in plans. */
export type Case = {
  incident: string;
  severity: Severity;
  approveContainment: boolean;
  /** false with --no-contain: contain-phase steps are not planned at all. */
  contain: boolean;
  forensicCidrs: string[];
  /** false when the responder decided to contain without forensic access (no CIDRs); absent otherwise. */
  forensicAccess?: false;
  forensicPorts?: PortRange[];
  /**
   * The open incident that already holds (some of) the targets: they are recorded as held by it and
   * left as it left them (no second snapshot set, no tag, no isolation). Without it, capture refuses them.
   */
  join?: string;
  region?: string;
  assumeRole?: string;
  /** Seconds to establish a connection to a remote API (default in src/aws/config.ts). */
  connectTimeout?: number;
  /** Seconds a remote call may send and receive nothing before it fails as retryable (default in src/aws/config.ts). */
  requestTimeout?: number;
  /** The Incident Commander, as the responder named them (`--commander`); journaled with the case. */
  commander?: string;
  /** Responders working the incident (`--responder`, repeatable). */
  responders?: string[];
  store: StoreSpec;
  /** Validated params per provider id (only providers with targets appear). */
  targets: Record<string, JsonObject>;
};

/** The case fields that say how to reach the clouds (region, role, timeouts), and whose incident it is. */
export type CloudSettings = Pick<Case, 'incident' | 'region' | 'assumeRole' | 'connectTimeout' | 'requestTimeout'>;

export type PortRange = {
  from: number;
  to: number;
};

/** One unit of work in a plan. Ids are deterministic so a re-run finds the same step. */
export interface Step<Action extends string = string, Inputs extends JsonObject = JsonObject> {
  id: string;
  provider: string;
  action: Action;
  phase: Phase;
  /** Resource key (e.g. `ec2:i-0abc`); phase ordering applies among steps of one target. */
  target: string;
  title: string;
  inputs: Inputs;
  dependsOn: string[];
  /** Planned but held back (low severity without --approve-containment). */
  awaitsApproval?: boolean;
}

/**
 * A provider's actions: each names the inputs its planner writes and the outputs its runner returns.
 * Inputs and outputs are type aliases (not interfaces) so the compiler checks they are plain JSON.
 */
export type ActionSpec = Record<string, { inputs: JsonObject; outputs: JsonObject }>;

/** The outputs of an action whose runner returns nothing for later steps. */
export type NoOutputs = Record<string, never>;

/** The discriminated union of a provider's steps, one variant per action. */
export type StepOf<Spec extends ActionSpec, A extends keyof Spec & string = keyof Spec & string> = {
  [K in A]: Step<K, Spec[K]['inputs']>;
}[A];

/** A step as a provider's planner returns it; the planner fills defaults. Distributes over a union of steps. */
export type StepDraft<S extends Step = Step> = S extends Step
  ? Omit<S, 'dependsOn' | 'provider'> & { dependsOn?: string[] }
  : never;

export const PLAN_SCHEMA = 'holdfast/plan@1';

export interface CapturePlan {
  schema: typeof PLAN_SCHEMA;
  incident: string;
  case: Case;
  steps: Step[];
  limitations: string[];
  /** Steps held back and why. */
  waiting: { stepId: string; reason: string }[];
  /** SHA-256 (hex) of the canonical plan without this field and without `signature`. */
  digest: string;
  /**
   * `evidence plan --sign-key`: a holdfast/signature@2 record of kind `plan` over `digest`
   * (src/evidence/signing.ts), so that `apply --require-signed` runs only the reviewed plan.
   */
  signature?: JsonObject;
}

/** Something evidence-bearing that a step produced. */
export interface ArtifactRecord {
  id: string;
  type: string;
  stepId: string;
  source: JsonObject;
  acquiredAt: string;
  location: JsonObject;
  /** Hex SHA-256 of the bytes, for artifacts whose bytes we hold; absent for platform snapshots. */
  sha256?: string;
  size?: number;
  method: JsonObject;
  preservation?: JsonObject;
  /** Who acquired it: OS user, host, cloud identity (and assumed role). Filled by the engine. */
  acquiredBy?: JsonObject;
}

/** A change to a resource; `before` is what release restores. */
export interface ChangeRecord {
  id: string;
  stepId: string;
  provider: string;
  resource: string;
  attribute: string;
  before: Json;
  after: Json;
  at: string;
  /** true when release should undo it (containment); preservation changes are kept by default. */
  reversible: boolean;
}

export interface FailureRecord {
  stepId: string;
  code: string;
  message: string;
  retryable?: boolean;
}

/** What a provider's `run` returns for one step. Failures are thrown. */
export interface StepOutcome<Outputs extends JsonObject = JsonObject> {
  /** Data later steps may read through `ctx.outputOf(stepId)`. */
  outputs?: Outputs;
  limitations?: string[];
  note?: string;
}

export interface PutMeta {
  contentType?: string;
  /** Stops the upload (Ctrl-C); a stopped upload never appears at its key. */
  signal?: AbortSignal;
}

/** Result of writing one object to an evidence store. */
export interface StoredObject {
  key: string;
  versionId?: string;
  sha256: string;
  size: number;
  location: JsonObject;
  preservation?: JsonObject;
}

/**
 * Short-lived URLs through which a remote host reads one stored object or writes one new object
 * itself (S3 presigned URLs), so that no credentials go to it. Stores that cannot hand out URLs (a
 * folder) have none.
 */
export interface RemoteStoreAccess {
  /** A presigned GET of `key` (at `versionId`). */
  readUrl(key: string, versionId: string | undefined, expiresInSeconds: number): Promise<string>;
  /**
   * Presigned writes of a new object at `key`, never overwriting: one PUT (sent with `headers`,
   * which are signed) when `parts` is 1, else the UploadPart URLs 1…parts of one multipart upload
   * that `complete` finishes.
   */
  writeUrls(
    key: string,
    options: { parts: number; expiresInSeconds: number; contentType: string },
  ): Promise<{ urls: string[]; headers: Record<string, string>; uploadId?: string }>;
  /** Finish a multipart upload from the parts that arrived; false when none did. */
  complete(key: string, uploadId: string): Promise<boolean>;
  /** Lock a version a host wrote as the store locks its own; where it is and how it is kept. */
  seal(key: string, versionId: string | undefined): Promise<{ location: JsonObject; preservation?: JsonObject }>;
}

/** An evidence store. Deliberately has no delete. */
export interface EvidenceStore {
  readonly description: string;
  /** Write once: refuses an existing key. The store hashes while it streams. */
  put(key: string, body: Readable | Buffer | string, meta?: PutMeta): Promise<StoredObject>;
  head(key: string): Promise<{ key: string; size: number; versionId?: string } | undefined>;
  /** Read back, by version where the store has versions. */
  get(key: string, versionId?: string): Promise<Readable>;
  list(prefix: string): Promise<string[]>;
  /** The lock a stored version carries now (stores with Object Lock); verify compares it with what was recorded. */
  protectionOf?(
    key: string,
    versionId?: string,
  ): Promise<{ lockMode: string; retainUntil: string | null; legalHold: boolean } | undefined>;
  /** Read-only checks for dry runs and preflight (e.g. Object Lock enabled). */
  preflight(): Promise<{ ok: boolean; problems: string[]; limitations: string[] }>;
  /** URLs for remote hosts (S3 only). */
  remote?: RemoteStoreAccess;
}

/** Artifact description a provider gives when it streams bytes through the engine. */
export interface ArtifactInput {
  /** Unique within the step; becomes part of the store key. */
  name: string;
  type: string;
  source: JsonObject;
  acquiredAt: string;
  method: JsonObject;
  contentType?: string;
}

/**
 * SDK clients a library caller or a test injects, one optional entry per provider or service id;
 * whatever is not injected is built by that provider's client.ts. Core names no provider: each
 * declares its own entry in the file that makes its clients (`declare module` merging into this
 * interface), so the map lists exactly the providers and services in the program, typed by them.
 */
export interface Clients {}

/**
 * One incident run as providers see it: what its steps share (clients, batched readers, caches) is
 * built once per run through `memo`, and never seen by another run in the same process.
 */
export interface RunScope {
  /** The value `build` made for `key` in this run, built on first use (keys start with the provider id). */
  memo<T>(key: string, build: () => T): T;
  /** The steps this run carries out, in plan order (none in discovery, release or verify). */
  readonly steps: readonly Step[];
}

/** Handed to provider code by the engine. */
export interface ProviderContext {
  incident: string;
  kase: Case;
  signal: AbortSignal;
  /** This run's shared state: one per capture, dry run, discovery, release or verify. */
  run: RunScope;
  /** Injected SDK clients (library callers, tests), each provider's under its id. */
  clients: Clients;
  /** Provider-independent AWS settings (region, endpoint from AWS_ENDPOINT_URL etc.). */
  env: NodeJS.ProcessEnv;
  dryRun: boolean;
  /**
   * During discovery: the service-account annotations naming cloud roles that engaged providers
   * asked to be found (their `claims.roles`); absent when none did, so none are read.
   */
  roleAnnotations?: readonly string[];
}

export interface StepContext<S extends Step = Step> extends ProviderContext {
  step: S;
  /** Stream bytes into the store: hashed in one place, recorded as an artifact. */
  putArtifact(input: ArtifactInput, body: Readable | Buffer | string): Promise<ArtifactRecord>;
  /** Record an artifact whose bytes live in the platform (a snapshot). */
  recordArtifact(input: Omit<ArtifactRecord, 'id' | 'stepId'> & { name: string }): ArtifactRecord;
  /** Journal a change before making it; resolves once the record is on disk (await it, then change). */
  recordChange(change: Omit<ChangeRecord, 'id' | 'stepId' | 'provider' | 'at'>): Promise<ChangeRecord>;
  /** Journal a resource before creating it, so a crash can adopt it; resolves once on disk. */
  recordIntent(what: JsonObject): Promise<void>;
  progress(message: string, detail?: JsonObject): void;
  /** Live progress (percent done, bytes read, what is being waited on); not journaled. Bytes streamed by putArtifact are reported for you. */
  reportProgress(progress: {
    percent?: number;
    waitingOn?: string;
    bytes?: number;
    bytesPerSecond?: number;
    done?: boolean;
  }): void;
  /** An artifact this incident recorded so far, by any step and run (e.g. a snapshot a later step hashes). */
  artifactOf(id: string): ArtifactRecord | undefined;
  /**
   * Add members to the `method` of an artifact an earlier step recorded (a content hash computed
   * once the platform finished it). Journaled as that artifact recorded again, so the manifest
   * carries the last record; a member already there is never changed. Resolves once on disk.
   */
  amendArtifactMethod(id: string, added: JsonObject): Promise<ArtifactRecord>;
  /** Outputs of a finished dependency (or of the same step id from an earlier run). */
  outputOf(stepId: string): JsonObject | undefined;
  /** Artifacts a remote host writes into the store itself; absent where the store hands out no URLs. */
  remote?: RemoteArtifacts;
  /**
   * Artifacts and changes this step recorded in earlier runs (interrupted, or undone by a release),
   * and the ids of those changes a release restored (a step run again after release contains again).
   */
  previous: { artifacts: ArtifactRecord[]; changes: ChangeRecord[]; intents: JsonObject[]; released?: string[] };
}

/** A step's artifacts whose bytes a remote host writes through presigned URLs. */
export interface RemoteArtifacts {
  /** The store key of artifact `name` of this step (or of `stepId`, an earlier step that had a host write it). */
  keyOf(name: string, stepId?: string): string;
  /** A presigned GET of an artifact this incident stored. */
  readUrl(artifact: ArtifactRecord, expiresInSeconds: number): Promise<string>;
  writeUrls: RemoteStoreAccess['writeUrls'];
  complete: RemoteStoreAccess['complete'];
  /**
   * Record what a host wrote at `keyOf(input.name, writtenFor)`: read back and hashed here while it streams,
   * locked like every artifact. `check` sees the first bytes and the size before anything is
   * recorded; a problem it names is thrown (nothing recorded). Undefined when nothing is there.
   */
  adopt(
    input: ArtifactInput,
    check?: (head: Buffer, size: number, sha256: string) => string | undefined,
    writtenFor?: string,
  ): Promise<ArtifactRecord | undefined>;
}

export interface PreflightResult {
  stepId: string;
  ok: boolean;
  /** e.g. 'ec2:ModifyNetworkInterfaceAttribute' */
  checks: { action: string; allowed: boolean | 'unknown'; detail?: string; policyFile?: string }[];
}

/** A CLI flag that feeds one provider param. */
export interface ProviderFlag {
  /** commander syntax, e.g. '--instance <id>' */
  flags: string;
  description: string;
  /** param name in the provider's target object */
  param: string;
  repeatable?: boolean;
  /** A boolean flag (no argument). */
  boolean?: boolean;
  /** Whether a value here counts as a target (so the provider is engaged). */
  target?: boolean;
}

export interface ReleaseContext extends ProviderContext {
  restoreProtection: boolean;
  /**
   * Hand released workloads back to their controllers even where a controller is predicted to
   * delete one (Kubernetes: after a pod-deletion cost that makes the evidence pod the last choice).
   */
  readopt: boolean;
  /** Also lift credential containment (revoked sessions, deactivated keys); by default it stays in force. */
  restoreCredentials: boolean;
  /**
   * Other incidents journaled in this state directory that hold a change `match` accepts and no
   * release restored (e.g. the same user's keys): their ids.
   */
  heldByOtherIncidents(match: (change: ChangeRecord) => boolean): Promise<string[]>;
  progress(message: string, detail?: JsonObject): void;
}

/** Kinds of cloud credentials the engine prepares for providers that declare them. */
export type CredentialKind = 'aws';

/**
 * How the engine handles one kind of cloud credentials, so the engine itself names no cloud: the
 * kit checks the case's settings for it, prepares clients (e.g. an assumed role) and says who is
 * capturing. Listed in engine/registry.ts beside the providers.
 */
export interface CredentialKit {
  kind: CredentialKind;
  /** Problems with the case-level settings this kind reads (region, role), each naming its case field. */
  caseProblems(input: { region?: unknown; assumeRole?: unknown }): InputProblem[];
  /** The clients providers get: the caller's, plus whatever this kind adds (an assumed-role session). */
  providerClients(kase: CloudSettings, env: NodeJS.ProcessEnv, clients: Clients): Promise<Clients>;
  /** Who is capturing, in this cloud's terms (merged into the operator record of every artifact). */
  identify(ctx: Pick<ProviderContext, 'kase' | 'env' | 'clients'>): Promise<JsonObject>;
  /** This cloud's errors as HoldfastErrors (throttled, denied, not found…); undefined for others'. */
  classifyError: CloudErrorClassifier;
  /** One line on what a step's calls cost in this cloud's rate limits (journaled when worth saying). */
  describeCalls(counts: CallCounts): string;
}

/**
 * What a provider must offer; providers are object literals that `satisfies Provider`. `S` is the
 * union of the provider's steps: its planner returns them and its runner narrows them by action.
 */
export interface Provider<Params extends JsonObject = JsonObject, Facts = unknown, S extends Step = Step> {
  id: string;
  summary: string;
  /** The cloud credentials it needs; the engine prepares them and records the caller's identity. */
  credentials?: CredentialKind;
  flags: ProviderFlag[];
  /** Paths under policies/ that grant exactly what this provider calls. */
  policies: string[];
  example: string;
  /**
   * Validate the provider's params; each problem names its case path (`targets.<id>.<param>[i]`),
   * never a CLI flag (the CLI maps paths to flags from `flags`). Plain text is accepted from
   * plug-ins and shown as it is.
   */
  parseParams(raw: JsonObject): { params?: Params; problems: (string | InputProblem)[] };
  /** Optional, pure: how its part of a saved plan is checked again before `apply` (src/engine/saved-plan.ts). */
  savedPlan?: {
    /**
     * One step like fresh input: a known action, inputs of the types and syntax the planner writes,
     * and what the case decides equal to what the case says. Problems name paths in the step
     * (`inputs.instanceId`). Without it a saved plan's steps get only the engine's checks.
     */
    parseStep(step: Step, kase: Case): { step?: S; problems: InputProblem[] };
    /** The raw params that parse to `params`, where `parseParams` does not take its own output. */
    paramsInput?(params: Params): JsonObject;
  };
  /** Read-only: describe what exists. Unknown targets are BadInput errors. */
  discover(params: Params, ctx: ProviderContext): Promise<Facts>;
  /** Pure: facts → steps. `claimants` says what other providers claim (see core/claims.ts), for texts naming them. */
  plan(facts: Facts, kase: Case, claimants: Claimants): { steps: StepDraft<S>[]; limitations?: string[] };
  /** Steps reach `preflight` and `run` only from the provider whose planner made them (`step.provider`). */
  preflight?(step: S, ctx: ProviderContext): Promise<PreflightResult>;
  run(step: S, ctx: StepContext): Promise<StepOutcome>;
  /**
   * Optional, pure: what its facts say about other providers' domains, without naming them (the
   * machine behind a Kubernetes node, the cloud role a pod runs as, an instance's profile). The
   * engine hands each finding to the provider whose `claims` recognise it, as that provider's
   * targets: the one way providers give each other targets.
   */
  findings?(facts: Facts, kase: Case): Finding[];
  /** Optional: what this provider recognises among other providers' findings. */
  claims?: Claims;
  /**
   * Optional, pure: extra dependencies across providers once every step is known (e.g. RDS
   * containment waits for the dump of the same database). Returns stepId → ids it must wait for.
   */
  relate?(steps: Step[]): Record<string, string[]>;
  /** Optional: undo its reversible changes (one at a time, or all of them together). */
  release?: ReleaseCapability;
  /**
   * Optional, read-only: which of these changes release would leave alone as things are now, and
   * why (the same judgement `release` makes), so `release --dry-run` promises what the run does.
   */
  checkRelease?(changes: ChangeRecord[], ctx: ReleaseContext): Promise<{ changeId: string; note: string }[]>;
  /**
   * Optional, read-only: check evidence the platform holds (a snapshot) is still as recorded, for
   * `evidence verify`. Undefined for artifact types this provider does not own.
   */
  checkEvidence?(
    artifact: ArtifactRecord,
    ctx: HeldEvidenceContext,
    options?: { hashContent?: boolean },
  ): Promise<HeldEvidenceResult | undefined>;
}

/**
 * What `checkEvidence` gets: a verifier may hold a journal without its capture's start, so of the
 * case only the cloud settings are promised (the caller's own when the journal names none).
 */
export type HeldEvidenceContext = Omit<ProviderContext, 'kase'> & { kase: CloudSettings };

/** What an online check of platform-held evidence found. */
export interface HeldEvidenceResult {
  ok: boolean;
  detail: string;
  /** The check could not be made (an API or transport error): no finding either way, never tampering. */
  couldNotCheck?: boolean;
}

/**
 * How a provider undoes its changes: `one` change at a time exactly as journaled (newest first,
 * across providers), or `many` together where a resource's changes must be judged and applied as
 * one (a pod's labels in one patch, after predicting what its controllers will do; one result per
 * change, `error` marking a failure), with an optional read-only `predict` for `release --dry-run`.
 */
export type ReleaseCapability =
  | { one(change: ChangeRecord, ctx: ReleaseContext): Promise<{ restored: boolean; note?: string; kept?: boolean }> }
  | {
      many(changes: ChangeRecord[], ctx: ReleaseContext): Promise<ReleaseResult[]>;
      predict?(changes: ChangeRecord[], ctx: ReleaseContext): Promise<string[]>;
    };

/** The result of undoing one change. */
export interface ReleaseResult {
  changeId: string;
  restored: boolean;
  note?: string;
  /** Not restored by decision (credential containment stays in force); a later capture contains again. */
  kept?: boolean;
  error?: { code: string; message: string };
}

export type EventListener = (event: CaptureEvent) => void;
