/**
 * `executePlan`: one capture run of a plan, composed from the run (src/engine/run.ts), the step
 * runner (run-steps.ts) and the seal. Resumes from the journal; a partial capture is a result, not
 * an exception.
 */
import { randomUUID } from 'node:crypto';
import { quietSdkNodeNotice } from '../aws/config.js';
import { BadInputError } from '../core/errors.js';
import { dryRun } from './dry-run.js';
import type { CaptureEvent, ProgressEvent } from '../core/events.js';
import { foldTimeline } from '../evidence/timeline.js';
import { outcomeFrom, plannedSteps, type CaptureOutcome } from './outcome.js';
import { cloudIdentity, credentialKindsOf } from './registry.js';
import type { CallCountsByKind } from '../core/call-meter.js';
import { isAlreadySealed, seal, sealedOutcome } from './seal.js';
import { signerRef, type Signer } from '../evidence/signing.js';
import { assertSignerContinues } from '../evidence/seals.js';
import { localOperator, toolInfo } from '../core/tool-info.js';
import { captureStatus } from '../evidence/manifest.js';
import { IncidentRun, type IncidentFence } from './run.js';

export type { IncidentFence } from './run.js';
import { runSteps, type StepResult } from './run-steps.js';
import type {
  CapturePlan,
  Clients,
  EvidenceStore,
  JsonObject,
  Provider,
  ProviderContext,
  Step,
} from '../core/types.js';

export type { CaptureOutcome } from './outcome.js';
export { journalPath, resolveStateDir } from './state-dir.js';
export { ABORT_GRACE_MS } from './run.js';
export { DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_BASE_DELAY_MS } from './run-steps.js';

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
  /**
   * A lease this run holds on the incident (the watch daemon's per-incident lease): its generation
   * is journaled at start, and every journal line is refused once `assertHeld` throws (the lease
   * was lost or taken over), so a stale holder writes nothing more.
   */
  fence?: IncidentFence;
}

/** What a capture and a dry run of a plan both need before anything is journaled. */
export interface PreparedRun {
  base: ProviderContext;
  store: EvidenceStore;
  storeCheck: Awaited<ReturnType<EvidenceStore['preflight']>>;
  providerOf: (step: Step) => Provider;
  operator: JsonObject;
}

/** Run (or, with dryRun, preflight) a plan. */
export async function executePlan(plan: CapturePlan, options: ExecuteOptions = {}): Promise<CaptureOutcome> {
  const { concurrency } = options;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
    throw new BadInputError({
      field: 'concurrency',
      message: `expected a whole number of steps, at least 1, got ${JSON.stringify(concurrency)}`,
    });
  const run = new IncidentRun({ ...options, incident: plan.incident, steps: plan.steps });
  const prepared = await prepare(plan, run, options);
  if (options.dryRun) return dryRun(plan, run, prepared, concurrency);
  // Each store problem begins with the store's location: it continues the `store` field's name.
  if (!prepared.storeCheck.ok)
    throw new BadInputError(
      prepared.storeCheck.problems.map((message) => ({ field: 'store', message, continues: true })),
    );
  await run.open({ mode: 'capture', kase: plan.case, store: prepared.store });
  try {
    const initial = run.journal.fold.state();
    if (isAlreadySealed(plan, initial, run.journal.events.at(-1))) {
      const sealed = await sealedOutcome(plan, initial, prepared.store, run.journalPath!, run.journal.text());
      if (sealed) return sealed;
    }
    return await capture(plan, run, prepared, options);
  } finally {
    // Every listener hears every line before the caller gets the outcome.
    await run.close();
  }
}

/** Check every step has its provider, preflight the store, and find out who is capturing. */
async function prepare(plan: CapturePlan, run: IncidentRun, options: ExecuteOptions): Promise<PreparedRun> {
  const { operator } = options;
  const notice = quietSdkNodeNotice();
  if (notice) run.progress({ warning: notice });
  const base = await run.context(plan.case, Boolean(options.dryRun));
  const store = run.storeFor(plan.case);
  const providerOf = (step: Step): Provider => {
    const p = run.providers.find((q) => q.id === step.provider);
    if (!p) throw new BadInputError(`plan step ${step.id} uses provider ${step.provider}, which is not registered`);
    return p;
  };
  plan.steps.forEach(providerOf);
  run.progress({ waitingOn: `the evidence store ${store.description}` });
  const storeCheck = await store.preflight();
  const kinds = credentialKindsOf(plan.case, [...new Set(plan.steps.map(providerOf))]);
  // The credential chain can take seconds (instance metadata, SSO): say what the wait is.
  if (!operator && kinds.length)
    run.progress({ waitingOn: `${kinds.map((k) => k.toUpperCase()).join(', ')} credential lookup (who am I)` });
  // Who is capturing: the local operator, and the caller in each cloud the run uses (caller's own credentials).
  const who = operator ?? {
    ...localOperator(),
    ...(await cloudIdentity({ ...base, clients: run.callerClients }, kinds)),
  };
  run.progress({ done: true });
  return { base, store, storeCheck, providerOf, operator: who };
}

/** The capture itself, in an open incident: start, run the steps, then seal (or record the abort). */
async function capture(
  plan: CapturePlan,
  run: IncidentRun,
  prepared: PreparedRun,
  options: ExecuteOptions,
): Promise<CaptureOutcome> {
  const { journal } = run;
  const captureId = journal.fold.state().captureId ?? randomUUID();
  // Journaled before anything changes, so the seal's signature can be checked against it.
  const signer = options.signer ? await signerRef(options.signer) : undefined;
  assertSignerContinues(journal.events, signer, plan.incident);
  run.emit({
    type: 'capture.started',
    captureId,
    case: plan.case,
    planDigest: plan.digest,
    operator: prepared.operator,
    tool: toolInfo(),
    resumed: journal.events.length > 0,
    steps: plan.steps.length,
    plannedSteps: plannedSteps(plan),
    ...(signer ? { signer } : {}),
    ...(options.fence ? { lease: { holder: options.fence.holder, generation: options.fence.generation } } : {}),
  });
  if (journal.tornTail)
    run.emit({
      type: 'capture.limitation',
      message: `the journal's last line was torn by a crash (${journal.tornTail.bytes} bytes, never acknowledged); it was set aside${journal.tornTail.keptAt ? ` in ${journal.tornTail.keptAt}` : ''} and not used — the step it belonged to was re-checked against the resources`,
    });
  for (const l of [...plan.limitations, ...prepared.storeCheck.limitations])
    run.emit({ type: 'capture.limitation', message: l });

  const acquiredBy = Object.fromEntries(
    Object.entries(prepared.operator).filter(([k]) => ['osUser', 'host', 'callerArn', 'assumedRole'].includes(k)),
  );
  const calls: CallCountsByKind = {};
  const deps = {
    ...prepared,
    journal,
    emit: run.emit.bind(run),
    durable: run.durable.bind(run),
    progress: run.progress,
    options,
    acquiredBy,
    calls,
  };
  const results = await run.within(runSteps(plan, deps), () => new Map<string, StepResult>([['*', 'aborted']]));
  if (journal.failure) throw journal.failure;
  const aborted = run.signal.aborted || [...results.values()].includes('aborted');
  await run.durable();
  const journalPath = run.journalPath!;
  if (aborted) {
    run.emit({ type: 'capture.aborted', reason: String(run.signal.reason ?? 'aborted') });
    const timeline = foldTimeline(journal.events);
    return outcomeFrom(plan, journal.fold.state(), { status: 'aborted', captureId, journalPath, timeline });
  }
  // Status and counts from the journal's fold: the same rule the manifest's status follows.
  const state = journal.fold.state();
  const count = (...of: string[]) => plan.steps.filter((s) => of.includes(state.steps.get(s.id)?.status ?? '')).length;
  run.emit({
    type: 'capture.finished',
    status: captureStatus(plan.steps, state),
    failed: count('failed', 'skipped'),
    waiting: count('waiting'),
  });
  const sealed = await seal(plan, {
    journal,
    store: prepared.store,
    emit: deps.emit,
    captureId,
    path: journalPath,
    ...(options.signer ? { signer: options.signer } : {}),
  });
  const perKind = Object.entries(calls).map(([kind, c]) => [
    kind,
    { calls: c.calls, throttles: c.throttles, pacedMs: Math.round(c.waitedMs) },
  ]);
  return { ...sealed, calls: Object.fromEntries(perKind) };
}
