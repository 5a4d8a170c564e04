/** The result of a capture, as the library returns it, built from the plan and the journal state. */
import type { CaptureStatus } from '../core/events.js';
import type { JournalState } from '../evidence/journal-state.js';
import { stepResults, type Manifest } from '../evidence/manifest.js';
import type { ContainmentStats, Timeline } from '../evidence/timeline.js';
import type {
  ArtifactRecord,
  CapturePlan,
  ChangeRecord,
  CredentialKind,
  FailureRecord,
  PreflightResult,
} from '../core/types.js';

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
  /** Per cloud: calls this run sent through paced clients, the throttles answered, and time spent waiting for tokens. */
  calls?: Partial<Record<CredentialKind, { calls: number; throttles: number; pacedMs: number }>>;
  /** Time from capture start to each target's containment: p50, p95 and max over the targets contained. */
  timeToContainment?: ContainmentStats;
}

/** The plan's steps as the journal records them at capture start. */
export function plannedSteps(plan: CapturePlan) {
  return plan.steps.map((s) => ({
    id: s.id,
    title: s.title,
    phase: s.phase,
    target: s.target,
    awaitsApproval: Boolean(s.awaitsApproval),
  }));
}

/** Outcome fields derived from the journal state. */
export function outcomeFrom(
  plan: CapturePlan,
  state: JournalState,
  extra: { status: CaptureStatus; captureId: string; journalPath?: string; timeline?: Timeline },
): CaptureOutcome {
  const { failures, waiting } = stepResults(plan.steps, state, false);
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
    ...(extra.timeline?.perTarget ? { timeToContainment: extra.timeline.perTarget } : {}),
  };
}
