/**
 * The evidence manifest (`holdfast/manifest@1`): a pure fold of the journal into what was
 * captured, changed, failed and could not be done; stored as canonical JSON and digested.
 */
import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { CaptureEvent, CaptureStatus } from '../core/events.js';
import { deriveJournalState, type JournalState } from './journal-state.js';
import { foldTimeline, type Timeline } from './timeline.js';
import type { JournalCopyPin } from './store-journal.js';
import type { ArtifactRecord, ChangeRecord, FailureRecord, JsonObject, Step } from '../core/types.js';

export const MANIFEST_SCHEMA = 'holdfast/manifest@1';

export interface Manifest {
  schema: typeof MANIFEST_SCHEMA;
  incident: string;
  captureId: string;
  planDigest: string;
  operator: JsonObject;
  tool: JsonObject;
  startedAt: string;
  endedAt: string;
  status: CaptureStatus;
  store: string;
  steps: { id: string; title: string; phase: string; target: string; status: string }[];
  artifacts: ArtifactRecord[];
  changes: ChangeRecord[];
  failures: FailureRecord[];
  waiting: { stepId: string; detail: string }[];
  limitations: string[];
  /**
   * The journal this manifest seals: where the copy holding the seal line goes, the head (SHA-256 of
   * the last line before the seal), how many events it covers, and every earlier copy, pinned.
   */
  journal: { key: string; head: string; events: number; copies: JournalCopyPin[] };
  timeline: Timeline;
}

export interface SealInfo {
  store: string;
  journalKey: string;
  journalHead: string;
  sealedAt: string;
  copies: JournalCopyPin[];
}

/** What the fold reads of a step: a plan's steps, or a sealed manifest's when verify folds it again. */
export type FoldedStep = { id: string; title: string; phase: string; target: string };

/**
 * Status of a capture from its journal's fold (the one rule: the engine's outcome, `capture.finished`
 * and the manifest all use it): failures make it partial; held-back containment, awaiting approval.
 */
export function captureStatus(steps: readonly Pick<Step, 'id'>[], state: Pick<JournalState, 'steps'>): CaptureStatus {
  const statuses = steps.map((s) => state.steps.get(s.id)?.status);
  if (statuses.some((s) => s === 'failed' || s === 'skipped' || s === 'started' || s === undefined)) {
    return statuses.every((s) => s !== 'done') ? 'failed' : 'partial';
  }
  if (statuses.some((s) => s === 'waiting')) return 'awaiting-approval';
  return 'complete';
}

/**
 * The steps that failed (or were skipped) and those held back, from the journal's fold, in step
 * order: the one rule the manifest and the engine's outcome share. With `notRun`, a step that never
 * finished is a failure too (a manifest accounts for every planned step).
 */
export function stepResults(
  steps: readonly Pick<Step, 'id'>[],
  state: Pick<JournalState, 'steps'>,
  notRun: boolean,
): { failures: FailureRecord[]; waiting: { stepId: string; detail: string }[] } {
  const failures: FailureRecord[] = [];
  const waiting: { stepId: string; detail: string }[] = [];
  for (const step of steps) {
    const s = state.steps.get(step.id);
    if (!s || s.status === 'started') {
      if (notRun) failures.push({ stepId: step.id, code: 'NOT_RUN', message: 'step did not finish (interrupted)' });
    } else if (s.status === 'failed' && s.failure) {
      failures.push(s.failure);
    } else if (s.status === 'skipped') {
      failures.push({ stepId: step.id, code: 'SKIPPED', message: s.detail ?? 'skipped' });
    } else if (s.status === 'waiting') {
      waiting.push({ stepId: step.id, detail: s.detail ?? 'awaits approval' });
    }
  }
  return { failures, waiting };
}

/** Fold the journal into a manifest (pure: the clock is passed in through `seal`). */
export function foldManifest(steps: readonly FoldedStep[], events: readonly CaptureEvent[], seal: SealInfo): Manifest {
  const state = deriveJournalState(events);
  const { failures, waiting } = stepResults(steps, state, true);
  const stepIds = new Set(steps.map((s) => s.id));
  return {
    schema: MANIFEST_SCHEMA,
    incident: events[0]?.incident ?? '',
    captureId: state.captureId ?? '',
    planDigest: state.planDigest ?? '',
    operator: state.operator ?? {},
    tool: state.tool ?? {},
    startedAt: state.firstAt ?? seal.sealedAt,
    endedAt: seal.sealedAt,
    status: captureStatus(steps, state),
    store: seal.store,
    steps: steps.map((s) => ({
      id: s.id,
      title: s.title,
      phase: s.phase,
      target: s.target,
      status: state.steps.get(s.id)?.status ?? 'not-run',
    })),
    artifacts: state.artifacts.filter((a) => stepIds.has(a.stepId)),
    changes: state.changes,
    failures,
    waiting,
    limitations: state.limitations,
    journal: { key: seal.journalKey, head: seal.journalHead, events: events.length, copies: seal.copies },
    timeline: foldTimeline(events),
  };
}

/** Canonical bytes of a manifest and their SHA-256. */
export function serializeManifest(manifest: Manifest): { text: string; sha256: string } {
  const text = canonicalJson(manifest);
  return { text, sha256: sha256Hex(text) };
}
