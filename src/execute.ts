/**
 * The step runner: runs a plan's steps by dependency with a concurrency limit, retries what is
 * retryable, journals every state change, resumes from the journal, and seals the manifest.
 * A partial capture is a result, not an exception.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { providerClients } from './assume-role.js';
import { awsClientConfig } from './aws-config.js';
import { BadInputError, describeError, InternalError, PermissionError, RemoteError, toHoldfastError } from './errors.js';
import { EventFanout, type CaptureEvent, type CaptureEventBody, type CaptureStatus } from './events.js';
import { lockIncident } from './incident-lock.js';
import { Journal } from './journal.js';
import { deriveJournalState, type JournalState } from './journal-state.js';
import { foldManifest, serializeManifest, type Manifest } from './manifest.js';
import { builtinProviders, createStore } from './registry.js';
import { artifactKey, journalPrefix, sealKeys } from './store-keys.js';
import { signManifest, type Signer } from './signing.js';
import { localOperator, toolInfo } from './tool-info.js';
import type {
  ArtifactRecord,
  CapturePlan,
  ChangeRecord,
  EvidenceStore,
  FailureRecord,
  JsonObject,
  PreflightResult,
  Provider,
  ProviderContext,
  Step,
  StepContext,
} from './types.js';

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_MAX_ATTEMPTS = 4;
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;
export const DEFAULT_STATE_DIR = '.holdfast';

/** Options for `executePlan`; everything is optional and injectable. */
export interface ExecuteOptions {
  providers?: readonly Provider[];
  store?: EvidenceStore;
  /** Where the local journal lives (default ./.holdfast, or $HOLDFAST_STATE_DIR). */
  stateDir?: string;
  onEvent?: (event: CaptureEvent) => void;
  signal?: AbortSignal;
  concurrency?: number;
  /** Injected SDK clients, keyed by provider id (and 'aws:sts', 's3-store'). */
  clients?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Preflight every step instead of running it; writes nothing. */
  dryRun?: boolean;
  retry?: { maxAttempts?: number; baseDelayMs?: number };
  /** Replaces the identity lookup (library callers that know who they are). */
  operator?: JsonObject;
  /** Signs the manifest digest at seal (local Ed25519 key or KMS). */
  signer?: Signer;
}

/** What a capture did; failure carries every field success has. */
export interface CaptureOutcome {
  status: CaptureStatus;
  incident: string;
  captureId: string;
  dryRun: boolean;
  failures: FailureRecord[];
  waiting: { stepId: string; detail: string }[];
  artifacts: ArtifactRecord[];
  changes: ChangeRecord[];
  limitations: string[];
  manifest?: Manifest;
  manifestKey?: string;
  manifestVersionId?: string;
  manifestSha256?: string;
  preflight?: PreflightResult[];
  storeProblems?: string[];
  journalPath?: string;
  /** true when the incident was already sealed with this plan's work and nothing ran. */
  alreadySealed?: boolean;
}

type StepResult = 'done' | 'failed' | 'skipped' | 'waiting' | 'aborted';

/** Resolve the local journal path for an incident. */
export function journalPath(stateDir: string, incident: string): string {
  return join(resolve(stateDir), incident, 'journal.ndjson');
}

/** Run (or, with dryRun, preflight) a plan. */
export async function executePlan(plan: CapturePlan, options: ExecuteOptions = {}): Promise<CaptureOutcome> {
  const providers = options.providers ?? builtinProviders;
  const env = options.env ?? process.env;
  const callerClients = options.clients ?? {};
  const kase = plan.case;
  const signal = options.signal ?? new AbortController().signal;
  const clients = await providerClients(kase, env, callerClients);
  const base: ProviderContext = { incident: plan.incident, kase, signal, clients, env, dryRun: Boolean(options.dryRun) };
  // The store keeps the caller's own credentials: evidence usually goes to the security account.
  const store = options.store ?? createStore(kase.store, awsClientConfig({ ...base, clients: callerClients }), callerClients);
  const providerOf = (step: Step): Provider => {
    const p = providers.find((q) => q.id === step.provider);
    if (!p) throw new BadInputError(`bad input: plan step ${step.id} uses provider ${step.provider}, which is not registered`);
    return p;
  };
  plan.steps.forEach(providerOf);

  const storeCheck = await store.preflight();
  const operator = options.operator ?? (await identify({ ...base, clients: callerClients }, kase.store.kind === 's3' || plan.steps.some((s) => isAwsProvider(s.provider))));

  if (options.dryRun) return dryRun(plan, { base, store, storeCheck, providerOf, operator, options });
  if (!storeCheck.ok) throw new BadInputError(`bad input: the evidence store cannot be used`, { details: storeCheck.problems });

  const stateDir = options.stateDir ?? env.HOLDFAST_STATE_DIR ?? DEFAULT_STATE_DIR;
  const path = journalPath(stateDir, plan.incident);
  const unlock = lockIncident(path, plan.incident);
  let journal: Journal;
  try {
    await restoreJournalFromStore(path, plan.incident, store);
    journal = Journal.open(path, plan.incident);
  } catch (error) {
    unlock();
    throw error;
  }
  const fanout = new EventFanout();
  fanout.subscribe(options.onEvent);
  const emit = (body: CaptureEventBody): CaptureEvent => {
    const line = journal.append(body);
    fanout.emit(line);
    return line;
  };

  try {
    const initial = deriveJournalState(journal.events);
    if (isAlreadySealed(plan, initial, journal.events.at(-1))) {
      return await sealedOutcome(plan, initial, store, path);
    }
    const captureId = initial.captureId ?? randomUUID();
    emit({
      type: 'capture.started',
      captureId,
      case: plan.case as unknown as JsonObject,
      planDigest: plan.digest,
      operator,
      tool: toolInfo(),
      resumed: journal.events.length > 0,
      steps: plan.steps.length,
      plannedSteps: plannedSteps(plan),
    });
    for (const l of [...plan.limitations, ...storeCheck.limitations]) emit({ type: 'capture.limitation', message: l });

    const acquiredBy = Object.fromEntries(Object.entries(operator).filter(([k]) => ['osUser', 'host', 'callerArn', 'assumedRole'].includes(k)));
    const results = await runSteps(plan, { base, store, journal, emit, providerOf, options, acquiredBy });
    const aborted = signal.aborted || [...results.values()].includes('aborted');
    const state = deriveJournalState(journal.events);
    const status = aborted ? 'aborted' : statusOf(results);
    if (aborted) {
      emit({ type: 'capture.aborted', reason: String(signal.reason ?? 'aborted') });
      return outcomeFrom(plan, state, { status: 'aborted', captureId, journalPath: path });
    }
    emit({
      type: 'capture.finished',
      status,
      failed: [...results.values()].filter((r) => r === 'failed' || r === 'skipped').length,
      waiting: [...results.values()].filter((r) => r === 'waiting').length,
    });
    return await seal(plan, { journal, store, emit, captureId, path, ...(options.signer ? { signer: options.signer } : {}) });
  } finally {
    journal.close();
    unlock();
  }
}

function plannedSteps(plan: CapturePlan) {
  return plan.steps.map((s) => ({ id: s.id, title: s.title, phase: s.phase, target: s.target, awaitsApproval: Boolean(s.awaitsApproval) }));
}

function isAwsProvider(id: string): boolean {
  return ['ec2', 'rds'].includes(id);
}

async function identify(ctx: ProviderContext, usesAws: boolean): Promise<JsonObject> {
  const local = localOperator();
  if (!usesAws) return local;
  // Loaded only when AWS is in play: the STS SDK costs memory a Kubernetes-only capture need not pay.
  const { callerIdentity } = await import('./aws-identity.js');
  const who = await callerIdentity(awsClientConfig(ctx), ctx.clients['aws:sts'] as never);
  return {
    ...local,
    ...(who.arn ? { callerArn: who.arn, account: who.account ?? null } : { callerArn: null, identityError: who.error ?? 'unknown' }),
    ...(ctx.kase.assumeRole ? { assumedRole: ctx.kase.assumeRole } : {}),
  };
}

/** With no local journal (another machine, lost disk), continue from the newest copy in the store. */
export async function restoreJournalFromStore(path: string, incident: string, store: EvidenceStore): Promise<void> {
  if (existsSync(path)) return;
  const keys = (await store.list(journalPrefix(incident))).filter((k) => k.endsWith('.ndjson'));
  let best = '';
  for (const key of keys) {
    const text = await streamToString(await store.get(key));
    if (text.length > best.length) best = text;
  }
  if (!best) return;
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, best, { flag: 'wx' });
}

/** Collect a stream into a string (for small JSON documents only). */
export async function streamToString(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function isAlreadySealed(plan: CapturePlan, state: JournalState, last: CaptureEvent | undefined): boolean {
  if (!state.sealed || last?.type !== 'capture.sealed') return false;
  return plan.steps.every((s) => {
    const st = state.steps.get(s.id)?.status;
    return st === 'done' || (st === 'waiting' && s.awaitsApproval);
  });
}

async function sealedOutcome(plan: CapturePlan, state: JournalState, store: EvidenceStore, path: string): Promise<CaptureOutcome> {
  const sealed = state.sealed!;
  const text = await streamToString(await store.get(sealed.manifestKey, sealed.manifestVersionId));
  const manifest = JSON.parse(text) as Manifest;
  return {
    ...outcomeFrom(plan, state, { status: manifest.status, captureId: state.captureId ?? '', journalPath: path }),
    manifest,
    manifestKey: sealed.manifestKey,
    ...(sealed.manifestVersionId ? { manifestVersionId: sealed.manifestVersionId } : {}),
    manifestSha256: serializeManifest(manifest).sha256,
    alreadySealed: true,
  };
}

function statusOf(results: Map<string, StepResult>): CaptureStatus {
  const values = [...results.values()];
  if (values.some((r) => r === 'failed' || r === 'skipped')) return values.some((r) => r === 'done') ? 'partial' : 'failed';
  if (values.some((r) => r === 'waiting')) return 'awaiting-approval';
  return 'complete';
}

function outcomeFrom(
  plan: CapturePlan,
  state: JournalState,
  extra: { status: CaptureStatus; captureId: string; journalPath?: string },
): CaptureOutcome {
  const failures: FailureRecord[] = [];
  const waiting: CaptureOutcome['waiting'] = [];
  for (const step of plan.steps) {
    const s = state.steps.get(step.id);
    if (s?.status === 'failed' && s.failure) failures.push(s.failure);
    if (s?.status === 'skipped') failures.push({ stepId: step.id, code: 'SKIPPED', message: s.detail ?? 'skipped' });
    if (s?.status === 'waiting') waiting.push({ stepId: step.id, detail: s.detail ?? 'awaits approval' });
  }
  return {
    status: extra.status,
    incident: plan.incident,
    captureId: extra.captureId,
    dryRun: false,
    failures,
    waiting,
    artifacts: state.artifacts,
    changes: state.changes,
    limitations: state.limitations,
    ...(extra.journalPath ? { journalPath: extra.journalPath } : {}),
  };
}

interface RunDeps {
  base: ProviderContext;
  /** Who is capturing; stamped on every artifact (chain of custody). */
  acquiredBy: JsonObject;
  store: EvidenceStore;
  journal: Journal;
  emit: (body: CaptureEventBody) => CaptureEvent;
  providerOf: (step: Step) => Provider;
  options: ExecuteOptions;
}

/** Run every step once its dependencies settle; each step's result decides its dependents'. */
async function runSteps(plan: CapturePlan, deps: RunDeps): Promise<Map<string, StepResult>> {
  const limit = pLimit(Math.max(1, deps.options.concurrency ?? DEFAULT_CONCURRENCY));
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const promises = new Map<string, Promise<StepResult>>();
  const results = new Map<string, StepResult>();
  const startState = deriveJournalState(deps.journal.events);

  const schedule = (step: Step): Promise<StepResult> => {
    let p = promises.get(step.id);
    if (p) return p;
    p = (async (): Promise<StepResult> => {
      const depResults = await Promise.all(step.dependsOn.map((d) => schedule(byId.get(d)!)));
      if (startState.steps.get(step.id)?.status === 'done') return 'done';
      if (step.awaitsApproval) {
        deps.emit({ type: 'step.skipped', stepId: step.id, reason: 'awaits-approval', detail: 'containment at low severity needs --approve-containment' });
        return 'waiting';
      }
      const blocking = step.dependsOn.filter((_, i) => depResults[i] !== 'done');
      if (blocking.length) {
        const waitingOnly = blocking.every((d) => results.get(d) === 'waiting');
        const abortedDep = blocking.some((d) => results.get(d) === 'aborted');
        if (abortedDep || deps.base.signal.aborted) return 'aborted';
        deps.emit({
          type: 'step.skipped',
          stepId: step.id,
          reason: waitingOnly ? 'awaits-approval' : 'dependency-failed',
          detail: `${waitingOnly ? 'waits for' : 'not run because these did not finish'}: ${blocking.join(', ')}`,
        });
        return waitingOnly ? 'waiting' : 'skipped';
      }
      return limit(() => attemptStep(step, deps));
    })().then((r) => {
      results.set(step.id, r);
      return r;
    });
    promises.set(step.id, p);
    return p;
  };
  await Promise.all(plan.steps.map(schedule));
  return results;
}

async function attemptStep(step: Step, deps: RunDeps): Promise<StepResult> {
  const { base, emit, options } = deps;
  const maxAttempts = options.retry?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const baseDelay = options.retry?.baseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
  const provider = deps.providerOf(step);
  for (let attempt = 1; ; attempt++) {
    if (base.signal.aborted) return 'aborted';
    emit({ type: 'step.started', stepId: step.id, attempt, phase: step.phase, title: step.title });
    try {
      const outcome = await provider.run(step, stepContext(step, deps));
      emit({
        type: 'step.done',
        stepId: step.id,
        outputs: outcome.outputs ?? {},
        limitations: outcome.limitations ?? [],
        ...(outcome.note ? { note: outcome.note } : {}),
      });
      return 'done';
    } catch (error) {
      if (base.signal.aborted) return 'aborted';
      const e = toHoldfastError(error);
      const retryable = e instanceof RemoteError && e.retryable;
      if (retryable && attempt < maxAttempts) {
        const delayMs = Math.round(baseDelay * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
        emit({ type: 'step.retry', stepId: step.id, attempt, delayMs, message: e.message });
        const slept = await sleep(delayMs, base.signal);
        if (!slept) return 'aborted';
        continue;
      }
      emit({
        type: 'step.failed',
        stepId: step.id,
        ...describeError(e),
        ...(e instanceof PermissionError ? { details: { action: e.action, policyFile: e.policyFile ?? null } } : {}),
      });
      return 'failed';
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolveSleep) => {
    if (signal.aborted) return resolveSleep(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolveSleep(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolveSleep(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The context a provider's `run` gets: every record goes through the journal first. */
function stepContext(step: Step, deps: RunDeps): StepContext {
  const { emit, store, base, journal } = deps;
  const state = deriveJournalState(journal.events);
  const previous = {
    artifacts: state.artifacts.filter((a) => a.stepId === step.id),
    changes: state.changes.filter((c) => c.stepId === step.id),
    intents: state.intents.get(step.id) ?? [],
  };
  return {
    ...base,
    step,
    previous,
    async putArtifact(input, body) {
      const id = `${step.id}/${input.name}`;
      const done = deriveJournalState(journal.events).artifacts.find((a) => a.id === id);
      if (done) {
        // Recorded by an interrupted earlier run: keep that one, never store it twice.
        if (typeof body === 'object' && 'destroy' in body) (body as Readable).destroy();
        return done;
      }
      let key = artifactKey(base.incident, step.id, input.name);
      // Bytes stored by a run that crashed before journaling them stay; the new copy goes beside them.
      for (let n = 1; await store.head(key); n++) key = `${artifactKey(base.incident, step.id, input.name)}~${n}`;
      const stored = await store.put(key, body, input.contentType ? { contentType: input.contentType } : {});
      const artifact: ArtifactRecord = {
        id,
        type: input.type,
        stepId: step.id,
        source: input.source,
        acquiredAt: input.acquiredAt,
        location: { ...stored.location, key: stored.key },
        sha256: stored.sha256,
        size: stored.size,
        method: input.method,
        ...(stored.preservation ? { preservation: stored.preservation } : {}),
        acquiredBy: deps.acquiredBy,
      };
      emit({ type: 'artifact.recorded', stepId: step.id, artifact });
      return artifact;
    },
    recordArtifact(input) {
      const { name, ...rest } = input;
      const artifact: ArtifactRecord = { ...rest, id: `${step.id}/${name}`, stepId: step.id, acquiredBy: deps.acquiredBy };
      emit({ type: 'artifact.recorded', stepId: step.id, artifact });
      return artifact;
    },
    recordChange(input) {
      const id = `${step.id}/${input.resource}/${input.attribute}`;
      const earlier = deriveJournalState(journal.events).changes.find((c) => c.id === id);
      // A re-run sees the already-changed value; the original is what the first run recorded.
      const change: ChangeRecord = {
        ...input,
        ...(earlier ? { before: earlier.before } : {}),
        id,
        stepId: step.id,
        provider: step.provider,
        at: new Date().toISOString(),
      };
      emit({ type: 'change.recorded', stepId: step.id, change });
      return change;
    },
    recordIntent(what) {
      emit({ type: 'step.intent', stepId: step.id, what });
    },
    progress(message, detail) {
      emit({ type: 'step.progress', stepId: step.id, message, ...(detail ? { detail } : {}) });
    },
    outputOf(stepId) {
      return deriveJournalState(journal.events).steps.get(stepId)?.outputs;
    },
  };
}

/**
 * Seal: fold the journal into the manifest and store it, journal the seal (so the manifest's digest
 * joins the hash chain), then store the journal copy. A failure leaves the capture resumable.
 */
async function seal(
  plan: CapturePlan,
  deps: { journal: Journal; store: EvidenceStore; emit: RunDeps['emit']; captureId: string; path: string; signer?: Signer },
): Promise<CaptureOutcome> {
  const { journal, store, emit } = deps;
  const sealedAt = new Date().toISOString();
  const keys = sealKeys(plan.incident, journal.head, sealedAt);
  try {
    const manifest = foldManifest(plan.steps, journal.events, {
      store: store.description,
      journalKey: keys.journal,
      journalHead: journal.head,
      sealedAt,
    });
    const { text, sha256 } = serializeManifest(manifest);
    const stored = await store.put(keys.manifest, text, { contentType: 'application/json' });
    if (stored.sha256 !== sha256) throw new InternalError('manifest digest changed while storing it');
    let signatureKey: string | undefined;
    if (deps.signer) {
      const record = await signManifest(deps.signer, keys.manifest, sha256);
      signatureKey = `${keys.manifest}.sig.json`;
      await store.put(signatureKey, `${JSON.stringify(record, null, 2)}\n`, { contentType: 'application/json' });
    }
    emit({
      type: 'capture.sealed',
      status: manifest.status,
      manifestKey: keys.manifest,
      ...(stored.versionId ? { manifestVersionId: stored.versionId } : {}),
      manifestSha256: sha256,
      journalKey: keys.journal,
      ...(signatureKey && deps.signer ? { signatureKey, signer: deps.signer.keyId } : {}),
    });
    await store.put(keys.journal, journal.text(), { contentType: 'application/x-ndjson' });
    const state = deriveJournalState(journal.events);
    return {
      ...outcomeFrom(plan, state, { status: manifest.status, captureId: deps.captureId, journalPath: deps.path }),
      manifest,
      manifestKey: keys.manifest,
      ...(stored.versionId ? { manifestVersionId: stored.versionId } : {}),
      manifestSha256: sha256,
    };
  } catch (error) {
    const failure = describeError(error);
    const state = deriveJournalState(journal.events);
    const outcome = outcomeFrom(plan, state, { status: 'partial', captureId: deps.captureId, journalPath: deps.path });
    outcome.failures.push({ stepId: 'seal', code: failure.code, message: `manifest not sealed: ${failure.message}` });
    return outcome;
  }
}

async function dryRun(
  plan: CapturePlan,
  deps: {
    base: ProviderContext;
    store: EvidenceStore;
    storeCheck: Awaited<ReturnType<EvidenceStore['preflight']>>;
    providerOf: (s: Step) => Provider;
    operator: JsonObject;
    options: ExecuteOptions;
  },
): Promise<CaptureOutcome> {
  const journal = Journal.inMemory(plan.incident);
  const fanout = new EventFanout();
  fanout.subscribe(deps.options.onEvent);
  const emit = (body: CaptureEventBody) => fanout.emit(journal.append(body));
  emit({ type: 'capture.started', captureId: 'dry-run', case: plan.case as unknown as JsonObject, planDigest: plan.digest, operator: deps.operator, tool: toolInfo(), resumed: false, steps: plan.steps.length, plannedSteps: plannedSteps(plan) });
  const limit = pLimit(Math.max(1, deps.options.concurrency ?? DEFAULT_CONCURRENCY));
  const results = await Promise.all(
    plan.steps.map((step) =>
      limit(async (): Promise<PreflightResult> => {
        const provider = deps.providerOf(step);
        let result: PreflightResult;
        try {
          result = provider.preflight
            ? await provider.preflight(step, deps.base)
            : { stepId: step.id, ok: true, checks: [{ action: `${step.provider}:${step.action}`, allowed: 'unknown', detail: 'no platform dry run for this step' }] };
        } catch (error) {
          const e = toHoldfastError(error);
          result = {
            stepId: step.id,
            ok: false,
            checks: [{ action: e instanceof PermissionError ? e.action : `${step.provider}:${step.action}`, allowed: e instanceof PermissionError ? false : 'unknown', detail: e.message, ...(e instanceof PermissionError && e.policyFile ? { policyFile: e.policyFile } : {}) }],
          };
        }
        emit({ type: 'preflight.result', stepId: step.id, result });
        return result;
      }),
    ),
  );
  for (const l of [...plan.limitations, ...deps.storeCheck.limitations]) emit({ type: 'capture.limitation', message: l });
  const ok = results.every((r) => r.ok) && deps.storeCheck.ok;
  return {
    status: ok ? 'planned' : 'failed',
    incident: plan.incident,
    captureId: 'dry-run',
    dryRun: true,
    failures: [],
    waiting: plan.waiting.map((w) => ({ stepId: w.stepId, detail: w.reason })),
    artifacts: [],
    changes: [],
    limitations: [...plan.limitations, ...deps.storeCheck.limitations],
    preflight: results,
    storeProblems: deps.storeCheck.problems,
  };
}
