/**
 * Derive a capture's state from its journal events (pure). A re-run uses this to skip finished
 * steps and hand interrupted steps what they recorded before the crash.
 */
import type { CaptureEvent, CaptureStatus } from '../core/events.js';
import type { ArtifactRecord, ChangeRecord, FailureRecord, JsonObject } from '../core/types.js';

export interface StepState {
  status: 'done' | 'failed' | 'waiting' | 'skipped' | 'started';
  outputs?: JsonObject;
  limitations?: string[];
  failure?: FailureRecord;
  detail?: string;
  attempts: number;
}

export interface JournalState {
  captureId?: string;
  planDigest?: string;
  operator?: JsonObject;
  tool?: JsonObject;
  firstAt?: string;
  lastAt?: string;
  steps: Map<string, StepState>;
  artifacts: ArtifactRecord[];
  changes: ChangeRecord[];
  intents: Map<string, JsonObject[]>;
  limitations: string[];
  /** The latest seal, if any, and whether events followed it. */
  sealed?: { status: CaptureStatus; manifestKey: string; manifestVersionId?: string; journalKey: string; seq: number };
  released: Map<string, { restored: boolean; at: string }>;
  /**
   * Done steps whose changes a release has since undone (step id → release time). A capture run
   * after release runs them again, so "capture" never reports containment that is no longer there.
   */
  releasedSteps: Map<string, string>;
  aborted: boolean;
}

/** Fold events into state; later events win, so a step that failed and then succeeded is done. */
export function deriveJournalState(events: readonly CaptureEvent[]): JournalState {
  const state: JournalState = {
    steps: new Map(),
    artifacts: [],
    changes: [],
    intents: new Map(),
    limitations: [],
    released: new Map(),
    releasedSteps: new Map(),
    aborted: false,
  };
  const stepOf = (id: string): StepState => {
    let s = state.steps.get(id);
    if (!s) {
      s = { status: 'started', attempts: 0 };
      state.steps.set(id, s);
    }
    return s;
  };
  for (const e of events) {
    state.firstAt ??= e.at;
    state.lastAt = e.at;
    switch (e.type) {
      case 'capture.started':
        state.captureId ??= e.captureId;
        state.planDigest = e.planDigest;
        state.operator = e.operator;
        state.tool = e.tool;
        state.aborted = false;
        break;
      case 'step.started': {
        const s = stepOf(e.stepId);
        s.status = 'started';
        s.attempts++;
        break;
      }
      case 'step.intent': {
        const list = state.intents.get(e.stepId) ?? [];
        list.push(e.what);
        state.intents.set(e.stepId, list);
        break;
      }
      case 'artifact.recorded':
        state.artifacts = state.artifacts.filter((a) => a.id !== e.artifact.id);
        state.artifacts.push(e.artifact);
        break;
      case 'change.recorded':
        state.changes = state.changes.filter((c) => c.id !== e.change.id);
        state.changes.push(e.change);
        // Made again after a release (a re-contain): the next release must undo it again.
        state.released.delete(e.change.id);
        break;
      case 'step.done':
        state.releasedSteps.delete(e.stepId);
        Object.assign(stepOf(e.stepId), {
          status: 'done',
          outputs: e.outputs,
          limitations: e.limitations,
          failure: undefined,
        });
        break;
      case 'step.failed':
        Object.assign(stepOf(e.stepId), {
          status: 'failed',
          failure: { stepId: e.stepId, code: e.code, message: e.message, retryable: e.retryable },
        });
        break;
      case 'step.skipped': {
        const s = stepOf(e.stepId);
        if (s.status !== 'done')
          Object.assign(s, { status: e.reason === 'awaits-approval' ? 'waiting' : 'skipped', detail: e.detail });
        break;
      }
      case 'capture.limitation':
        if (!state.limitations.includes(e.message)) state.limitations.push(e.message);
        break;
      case 'capture.aborted':
        state.aborted = true;
        break;
      case 'capture.sealed':
        state.sealed = {
          status: e.status,
          manifestKey: e.manifestKey,
          ...(e.manifestVersionId ? { manifestVersionId: e.manifestVersionId } : {}),
          journalKey: e.journalKey,
          seq: e.seq,
        };
        break;
      case 'change.released': {
        state.released.set(e.changeId, { restored: e.restored, at: e.at });
        const stepId = state.changes.find((c) => c.id === e.changeId)?.stepId;
        if (e.restored && stepId && state.steps.get(stepId)?.status === 'done') state.releasedSteps.set(stepId, e.at);
        break;
      }
      default:
        break;
    }
  }
  for (const s of state.steps.values()) {
    for (const l of s.limitations ?? []) if (!state.limitations.includes(l)) state.limitations.push(l);
  }
  return state;
}
