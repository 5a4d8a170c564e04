/** A dry run: preflight every step (platform dry runs where they exist), write nothing. */
import pLimit from 'p-limit';
import { PermissionError } from '../core/errors.js';
import { holdfastErrorOf } from './registry.js';
import { plannedSteps, type CaptureOutcome } from './outcome.js';
import { toolInfo } from '../core/tool-info.js';
import type { IncidentRun } from './run.js';
import type { PreparedRun } from './execute.js';
import type { CapturePlan, PreflightResult, Provider, ProviderContext, Step } from '../core/types.js';

/** Steps in flight at once when no concurrency is given. */
export const DEFAULT_DRY_RUN_CONCURRENCY = 8;

/** Preflight every step of the plan and the store; the run's events go to listeners, its journal stays in memory. */
export async function dryRun(
  plan: CapturePlan,
  run: IncidentRun,
  prepared: PreparedRun,
  concurrency = DEFAULT_DRY_RUN_CONCURRENCY,
): Promise<CaptureOutcome> {
  run.openInMemory();
  run.emit({
    type: 'capture.started',
    captureId: 'dry-run',
    case: plan.case,
    planDigest: plan.digest,
    operator: prepared.operator,
    tool: toolInfo(),
    resumed: false,
    steps: plan.steps.length,
    plannedSteps: plannedSteps(plan),
  });
  const limit = pLimit(Math.max(1, concurrency));
  const results = await Promise.all(
    plan.steps.map((step) =>
      limit(async () => {
        const result = await preflightStep(step, prepared.providerOf(step), prepared.base);
        run.emit({ type: 'preflight.result', stepId: step.id, result });
        return result;
      }),
    ),
  );
  const { storeCheck } = prepared;
  for (const l of [...plan.limitations, ...storeCheck.limitations])
    run.emit({ type: 'capture.limitation', message: l });
  await run.close();
  return {
    status: results.every((r) => r.ok) && storeCheck.ok ? 'planned' : 'failed',
    incident: plan.incident,
    captureId: 'dry-run',
    dryRun: true,
    failures: [],
    waiting: plan.waiting.map((w) => ({ stepId: w.stepId, detail: w.reason })),
    artifacts: [],
    changes: [],
    limitations: [...plan.limitations, ...storeCheck.limitations],
    preflight: results,
    storeProblems: storeCheck.problems,
  };
}

/** One step's preflight: its provider's platform dry run, or "unknown" where it has none; an error is a failed check. */
async function preflightStep(step: Step, provider: Provider, ctx: ProviderContext): Promise<PreflightResult> {
  try {
    if (provider.preflight) return await provider.preflight(step, ctx);
    const check = { action: `${step.provider}:${step.action}`, allowed: 'unknown' as const };
    return { stepId: step.id, ok: true, checks: [{ ...check, detail: 'no platform dry run for this step' }] };
  } catch (error) {
    const e = holdfastErrorOf(error);
    const denied = e instanceof PermissionError;
    return {
      stepId: step.id,
      ok: false,
      checks: [
        {
          action: denied ? e.action : `${step.provider}:${step.action}`,
          allowed: denied ? false : 'unknown',
          detail: e.message,
          ...(denied && e.policyFile ? { policyFile: e.policyFile } : {}),
        },
      ],
    };
  }
}
