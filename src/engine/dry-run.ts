/** A dry run: preflight every step (platform dry runs where they exist), write nothing. */
import pLimit from 'p-limit';
import { PermissionError } from '../core/errors.js';
import { holdfastErrorOf } from './registry.js';
import { EventFanout, type CaptureEventBody } from '../core/events.js';
import { Journal } from '../evidence/journal.js';
import { plannedSteps, type CaptureOutcome } from './outcome.js';
import { toolInfo } from '../core/tool-info.js';
import type {
  CapturePlan,
  EvidenceStore,
  JsonObject,
  PreflightResult,
  Provider,
  ProviderContext,
  Step,
} from '../core/types.js';

/** Steps in flight at once when no concurrency is given. */
export const DEFAULT_DRY_RUN_CONCURRENCY = 8;

/** Preflight every step of the plan and the store; emits events but journals nothing to disk. */
export async function dryRun(
  plan: CapturePlan,
  deps: {
    base: ProviderContext;
    store: EvidenceStore;
    storeCheck: Awaited<ReturnType<EvidenceStore['preflight']>>;
    providerOf: (s: Step) => Provider;
    operator: JsonObject;
    options: { onEvent?: (e: import('../core/events.js').CaptureEvent) => void; concurrency?: number };
  },
): Promise<CaptureOutcome> {
  const journal = Journal.inMemory(plan.incident);
  const fanout = new EventFanout();
  fanout.subscribe(deps.options.onEvent);
  const emit = (body: CaptureEventBody) => fanout.emit(journal.append(body));
  emit({
    type: 'capture.started',
    captureId: 'dry-run',
    case: plan.case,
    planDigest: plan.digest,
    operator: deps.operator,
    tool: toolInfo(),
    resumed: false,
    steps: plan.steps.length,
    plannedSteps: plannedSteps(plan),
  });
  const limit = pLimit(Math.max(1, deps.options.concurrency ?? DEFAULT_DRY_RUN_CONCURRENCY));
  const results = await Promise.all(
    plan.steps.map((step) =>
      limit(async (): Promise<PreflightResult> => {
        const provider = deps.providerOf(step);
        let result: PreflightResult;
        try {
          result = provider.preflight
            ? await provider.preflight(step, deps.base)
            : {
                stepId: step.id,
                ok: true,
                checks: [
                  {
                    action: `${step.provider}:${step.action}`,
                    allowed: 'unknown',
                    detail: 'no platform dry run for this step',
                  },
                ],
              };
        } catch (error) {
          const e = holdfastErrorOf(error);
          result = {
            stepId: step.id,
            ok: false,
            checks: [
              {
                action: e instanceof PermissionError ? e.action : `${step.provider}:${step.action}`,
                allowed: e instanceof PermissionError ? false : 'unknown',
                detail: e.message,
                ...(e instanceof PermissionError && e.policyFile ? { policyFile: e.policyFile } : {}),
              },
            ],
          };
        }
        emit({ type: 'preflight.result', stepId: step.id, result });
        return result;
      }),
    ),
  );
  for (const l of [...plan.limitations, ...deps.storeCheck.limitations])
    emit({ type: 'capture.limitation', message: l });
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
