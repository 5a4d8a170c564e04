/**
 * The step runner: runs a plan's steps by dependency with a concurrency limit and containment
 * first, retries what is retryable, and journals every step's state change through the run.
 */
import { describeError, PermissionError, RemoteError } from '../core/errors.js';
import { credentialKits, holdfastErrorOf } from './registry.js';
import { callMeter, noCalls, type CallCountsByKind } from '../core/call-meter.js';
import { phaseCheckpoints } from './phase-checkpoints.js';
import { priorityLimit } from './priority-limit.js';
import { stepContext, type RunDeps } from './step-context.js';
import type { CapturePlan, CredentialKind, Provider, Step } from '../core/types.js';
import { PHASES } from '../core/types.js';

/**
 * Steps in flight at once. High enough that a fleet is bounded by AWS's request rates (the client
 * paces calls per API with token buckets), not by a queue in front of them.
 */
export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_MAX_ATTEMPTS = 4;
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;

/** How one step of this run ended. */
export type StepResult = 'done' | 'failed' | 'skipped' | 'waiting' | 'aborted';

/** Run every step once its dependencies settle; each step's result decides its dependents'. */
export async function runSteps(plan: CapturePlan, deps: RunDeps): Promise<Map<string, StepResult>> {
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
