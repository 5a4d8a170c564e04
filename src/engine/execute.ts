/**
 * The step runner: runs a plan's steps by dependency with a concurrency limit, retries what is
 * retryable, journals every state change, resumes from the journal, and seals the manifest.
 * A partial capture is a result, not an exception.
 */
import { randomUUID } from 'node:crypto';
import { quietSdkNodeNotice } from '../aws/config.js';
import { BadInputError, describeError, PermissionError, RemoteError } from '../core/errors.js';
import { dryRun } from './dry-run.js';
import {
  EventFanout,
  progressEmitter,
  type CaptureEvent,
  type CaptureEventBody,
  type CaptureStatus,
  type ProgressEvent,
} from '../core/events.js';
import { openIncident } from './open-incident.js';
import { foldTimeline } from '../evidence/timeline.js';
import { outcomeFrom, plannedSteps, type CaptureOutcome } from './outcome.js';
import {
  builtinProviders,
  cloudIdentity,
  credentialKindsOf,
  credentialKits,
  holdfastErrorOf,
  providerClients,
  storeForCase,
} from './registry.js';
import { phaseCheckpoints } from './phase-checkpoints.js';
import { runScope } from './run-scope.js';
import { priorityLimit } from './priority-limit.js';
import { callMeter, noCalls, type CallCountsByKind } from '../core/call-meter.js';
import { isAlreadySealed, seal, sealedOutcome } from './seal.js';
import { signerRef, type Signer } from '../evidence/signing.js';
import { assertSignerContinues } from '../evidence/seals.js';
import { stepContext, type RunDeps } from './step-context.js';
import { localOperator, toolInfo } from '../core/tool-info.js';
import type {
  CapturePlan,
  Clients,
  CredentialKind,
  EvidenceStore,
  JsonObject,
  Provider,
  ProviderContext,
  Step,
} from '../core/types.js';
import { PHASES } from '../core/types.js';

export type { CaptureOutcome } from './outcome.js';
export { journalPath, resolveStateDir } from './state-dir.js';

/**
 * Steps in flight at once. High enough that a fleet is bounded by AWS's request rates (the client
 * paces calls per API with token buckets), not by a queue in front of them.
 */
export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_MAX_ATTEMPTS = 4;
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;

/** Options for `executePlan`; everything is optional and injectable. */
export interface ExecuteOptions {
  providers?: readonly Provider[];
  store?: EvidenceStore;
  /** Where the local journal lives (default $HOLDFAST_STATE_DIR, an existing ./.holdfast, or ~/.local/state/holdfast). */
  stateDir?: string;
  onEvent?: (event: CaptureEvent) => void;
  /** Live progress (bytes, percent, what is being waited on, warnings); not journaled. */
  onProgress?: (progress: ProgressEvent) => void;
  signal?: AbortSignal;
  concurrency?: number;
  /** Injected SDK clients, each provider's or service's under its id (`ec2`, `s3-store`, `aws:sts`…). */
  clients?: Clients;
  env?: NodeJS.ProcessEnv;
  /** Preflight every step instead of running it; writes nothing. */
  dryRun?: boolean;
  retry?: { maxAttempts?: number; baseDelayMs?: number };
  /** Replaces the identity lookup (library callers that know who they are). */
  operator?: JsonObject;
  /** Signs the manifest digest at seal (local Ed25519 key or KMS). */
  signer?: Signer;
}

type StepResult = 'done' | 'failed' | 'skipped' | 'waiting' | 'aborted';

/** Run (or, with dryRun, preflight) a plan. */
export async function executePlan(plan: CapturePlan, options: ExecuteOptions = {}): Promise<CaptureOutcome> {
  const providers = options.providers ?? builtinProviders;
  const env = options.env ?? process.env;
  const callerClients = options.clients ?? {};
  const kase = plan.case;
  const { concurrency } = options;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
    throw new BadInputError({
      field: 'concurrency',
      message: `expected a whole number of steps, at least 1, got ${JSON.stringify(concurrency)}`,
    });
  const progress = progressEmitter(plan.incident, options.onProgress);
  const notice = quietSdkNodeNotice();
  if (notice) progress({ warning: notice });
  const userSignal = options.signal ?? new AbortController().signal;
  const base: ProviderContext = {
    incident: plan.incident,
    kase,
    signal: userSignal,
    clients: await providerClients(kase, env, callerClients),
    env,
    dryRun: Boolean(options.dryRun),
    // What providers share within this run (clients, batched reads) lives in it, and only in it.
    run: runScope(plan.steps),
  };
  // The store keeps the caller's own credentials: evidence usually goes to the security account.
  const store = options.store ?? storeForCase(kase, env, callerClients);
  const providerOf = (step: Step): Provider => {
    const p = providers.find((q) => q.id === step.provider);
    if (!p) throw new BadInputError(`plan step ${step.id} uses provider ${step.provider}, which is not registered`);
    return p;
  };
  plan.steps.forEach(providerOf);

  progress({ waitingOn: `the evidence store ${store.description}` });
  const storeCheck = await store.preflight();
  const kinds = credentialKindsOf(kase, [...new Set(plan.steps.map(providerOf))]);
  // The credential chain can take seconds (instance metadata, SSO): say what the wait is.
  if (!options.operator && kinds.length)
    progress({ waitingOn: `${kinds.map((k) => k.toUpperCase()).join(', ')} credential lookup (who am I)` });
  const operator = options.operator ?? (await identify({ ...base, clients: callerClients }, kinds));
  progress({ done: true });

  if (options.dryRun) return dryRun(plan, { base, store, storeCheck, providerOf, operator, options });
  // Each store problem begins with the store's location: it continues the `store` field's name.
  if (!storeCheck.ok)
    throw new BadInputError(storeCheck.problems.map((message) => ({ field: 'store', message, continues: true })));

  const opened = await openIncident({
    mode: 'capture',
    incident: plan.incident,
    kase,
    stateDir: options.stateDir,
    env,
    store,
  });
  const { journal, path } = opened;
  // Stopped by the caller's signal (Ctrl-C) or by a journal failure.
  const stop = new AbortController();
  const signal = AbortSignal.any([userSignal, stop.signal]);
  base.signal = signal;
  const fanout = new EventFanout();
  fanout.subscribe(options.onEvent);
  // A journal that cannot be written stops every step: none may make a change it cannot record.
  const stopOnJournalFailure = () => {
    if (journal.failure && !stop.signal.aborted) stop.abort(journal.failure);
  };
  // Lines are written at once and fsynced in groups; listeners hear of a line only once it is durable.
  const durable = () =>
    journal.durable().catch((error: unknown) => {
      stopOnJournalFailure();
      throw error;
    });
  let told: Promise<void> = Promise.resolve();
  const emit = (body: CaptureEventBody): CaptureEvent => {
    let line: CaptureEvent;
    try {
      line = journal.write(body);
    } catch (error) {
      stopOnJournalFailure();
      throw error;
    }
    told = durable().then(
      () => fanout.emit(line),
      () => undefined,
    );
    return line;
  };

  try {
    const initial = journal.fold.state();
    if (isAlreadySealed(plan, initial, journal.events.at(-1))) {
      const sealed = await sealedOutcome(plan, initial, store, path, journal.text());
      if (sealed) return sealed;
    }
    const captureId = initial.captureId ?? randomUUID();
    // Journaled before anything changes, so the seal's signature can be checked against it.
    const signer = options.signer ? await signerRef(options.signer) : undefined;
    assertSignerContinues(journal.events, signer, plan.incident);
    emit({
      type: 'capture.started',
      captureId,
      case: plan.case,
      planDigest: plan.digest,
      operator,
      tool: toolInfo(),
      resumed: journal.events.length > 0,
      steps: plan.steps.length,
      plannedSteps: plannedSteps(plan),
      ...(signer ? { signer } : {}),
    });
    if (journal.tornTail)
      emit({
        type: 'capture.limitation',
        message: `the journal's last line was torn by a crash (${journal.tornTail.bytes} bytes, never acknowledged); it was set aside${journal.tornTail.keptAt ? ` in ${journal.tornTail.keptAt}` : ''} and not used — the step it belonged to was re-checked against the resources`,
      });
    for (const l of [...plan.limitations, ...storeCheck.limitations]) emit({ type: 'capture.limitation', message: l });

    const acquiredBy = Object.fromEntries(
      Object.entries(operator).filter(([k]) => ['osUser', 'host', 'callerArn', 'assumedRole'].includes(k)),
    );
    const calls: CallCountsByKind = {};
    const results = await settleWithin(
      runSteps(plan, { base, store, journal, emit, durable, progress, providerOf, options, acquiredBy, calls }),
      signal,
      ABORT_GRACE_MS,
    );
    if (journal.failure) throw journal.failure;
    const aborted = signal.aborted || [...results.values()].includes('aborted');
    await durable();
    const state = journal.fold.state();
    const status = aborted ? 'aborted' : statusOf(results);
    if (aborted) {
      emit({ type: 'capture.aborted', reason: String(signal.reason ?? 'aborted') });
      return outcomeFrom(plan, state, {
        status: 'aborted',
        captureId,
        journalPath: path,
        timeline: foldTimeline(journal.events),
      });
    }
    emit({
      type: 'capture.finished',
      status,
      failed: [...results.values()].filter((r) => r === 'failed' || r === 'skipped').length,
      waiting: [...results.values()].filter((r) => r === 'waiting').length,
    });
    const sealed = await seal(plan, {
      journal,
      store,
      emit,
      captureId,
      path,
      ...(options.signer ? { signer: options.signer } : {}),
    });
    return {
      ...sealed,
      calls: Object.fromEntries(
        Object.entries(calls).map(([kind, c]) => [
          kind,
          { calls: c.calls, throttles: c.throttles, pacedMs: Math.round(c.waitedMs) },
        ]),
      ),
    };
  } finally {
    // Every listener hears every line before the caller gets the outcome.
    await durable().catch(() => undefined);
    await told;
    opened.close();
  }
}

/** After Ctrl-C, calls still in flight get this long; their intents are journaled, so a re-run reconciles them. */
export const ABORT_GRACE_MS = 1_500;

/** The steps' results, or, once aborted, whatever has settled after `graceMs` (the rest count as aborted). */
async function settleWithin(
  running: Promise<Map<string, StepResult>>,
  signal: AbortSignal,
  graceMs: number,
): Promise<Map<string, StepResult>> {
  const partial = new Map<string, StepResult>();
  // Steps abandoned after the grace may still fail (the journal is closed by then): nobody awaits them.
  running.catch(() => undefined);
  const cut = new Promise<Map<string, StepResult>>((resolveCut) => {
    const onAbort = () => setTimeout(() => resolveCut(partial.set('*', 'aborted')), graceMs).unref();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([running, cut]);
}

/** Who is capturing: the local operator, and the caller in each cloud the run uses. */
async function identify(ctx: ProviderContext, kinds: readonly CredentialKind[]): Promise<JsonObject> {
  return { ...localOperator(), ...(await cloudIdentity(ctx, kinds)) };
}

function statusOf(results: Map<string, StepResult>): CaptureStatus {
  const values = [...results.values()];
  if (values.some((r) => r === 'failed' || r === 'skipped'))
    return values.some((r) => r === 'done') ? 'partial' : 'failed';
  if (values.some((r) => r === 'waiting')) return 'awaiting-approval';
  return 'complete';
}

/** Run every step once its dependencies settle; each step's result decides its dependents'. */
async function runSteps(plan: CapturePlan, deps: RunDeps): Promise<Map<string, StepResult>> {
  const limit = priorityLimit(Math.max(1, deps.options.concurrency ?? DEFAULT_CONCURRENCY));
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const promises = new Map<string, Promise<StepResult>>();
  const results = new Map<string, StepResult>();
  const startState = deps.journal.fold.state();
  const checkpoints = phaseCheckpoints(plan, {
    store: deps.store,
    journal: deps.journal,
    emit: deps.emit,
    signal: deps.base.signal,
  });
  const ran = new Set<string>();

  const schedule = (step: Step): Promise<StepResult> => {
    let p = promises.get(step.id);
    if (p) return p;
    p = (async (): Promise<StepResult> => {
      const depResults = await Promise.all(step.dependsOn.map((d) => schedule(byId.get(d)!)));
      // A step whose changes a release undid runs again: capturing after release contains again.
      if (startState.steps.get(step.id)?.status === 'done' && !startState.releasedSteps.has(step.id)) return 'done';
      if (step.awaitsApproval) {
        deps.emit({
          type: 'step.skipped',
          stepId: step.id,
          reason: 'awaits-approval',
          detail: 'containment at low severity needs --approve-containment',
        });
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
      ran.add(step.id);
      return limit(stepPriority(step), () => attemptStep(step, deps));
    })()
      // A journal that stopped taking lines aborted the run: the step stops, it did not fail.
      .catch((error: unknown) => {
        if (deps.base.signal.aborted) return 'aborted' as const;
        throw error;
      })
      .then((r) => {
        results.set(step.id, r);
        checkpoints.settled(step, ran.has(step.id));
        return r;
      });
    promises.set(step.id, p);
    return p;
  };
  await Promise.all(plan.steps.map(schedule));
  await checkpoints.flush();
  return results;
}

/**
 * Containment first: a target whose evidence is taken is contained before other targets start
 * their preservation; settling (waiting on snapshots to complete) is the least urgent.
 */
function stepPriority(step: Step): number {
  return step.phase === 'settle' ? -1 : PHASES.indexOf(step.phase);
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
      const calls: CallCountsByKind = {};
      let outcome: Awaited<ReturnType<Provider['run']>>;
      try {
        outcome = await callMeter.run(calls, () => provider.run(step, stepContext(step, deps)));
      } finally {
        reportCalls(step, calls, deps);
      }
      emit({
        type: 'step.done',
        stepId: step.id,
        outputs: outcome.outputs ?? {},
        limitations: outcome.limitations ?? [],
        ...(outcome.note ? { note: outcome.note } : {}),
      });
      // Dependents act on this step's outputs: only once its record is on disk.
      await deps.durable();
      return 'done';
    } catch (error) {
      if (base.signal.aborted) return 'aborted';
      const e = holdfastErrorOf(error);
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

/** What rate limits cost a step, per cloud: journaled when it waited or was throttled; summed for the outcome. */
function reportCalls(step: Step, calls: CallCountsByKind, deps: RunDeps): void {
  for (const [kind, counts] of Object.entries(calls) as [CredentialKind, (typeof calls)[CredentialKind]][]) {
    if (!counts) continue;
    if (deps.calls) {
      const total = (deps.calls[kind] ??= noCalls());
      total.calls += counts.calls;
      total.throttles += counts.throttles;
      total.waitedMs += counts.waitedMs;
    }
    if (!counts.throttles && counts.waitedMs < PACING_WORTH_SAYING_MS) continue;
    deps.emit({
      type: 'step.progress',
      stepId: step.id,
      message: credentialKits[kind].describeCalls(counts),
      detail: { apiCalls: counts.calls, throttles: counts.throttles, pacedMs: Math.round(counts.waitedMs) },
    });
  }
}

/** Below this, waiting for tokens is not worth a journal line. */
const PACING_WORTH_SAYING_MS = 1000;

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
