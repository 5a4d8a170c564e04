/**
 * A capture's state folded from its journal events. The fold is incremental: the journal applies
 * each event as it is appended, so a look-up (a step's outputs, an artifact, a change) costs the
 * same at event 10 and at event 100,000. A re-run uses it to skip finished steps and hand
 * interrupted steps what they recorded before the crash.
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
  /** The last `capture.started` (its case, planned steps and signer): the run the journal now continues. */
  lastStart?: Extract<CaptureEvent, { type: 'capture.started' }>;
  firstAt?: string;
  lastAt?: string;
  steps: Map<string, StepState>;
  artifacts: ArtifactRecord[];
  changes: ChangeRecord[];
  intents: Map<string, JsonObject[]>;
  limitations: string[];
  /** The latest seal, if any, and whether events followed it. */
  sealed?: { status: CaptureStatus; manifestKey: string; manifestVersionId?: string; journalKey: string; seq: number };
  /** Per change, the last release's result; `kept`: left in force by decision (credential containment). */
  released: Map<string, { restored: boolean; at: string; kept?: boolean }>;
  /**
   * Done steps whose changes a release has since undone (step id → release time). A capture run
   * after release runs them again, so "capture" never reports containment that is no longer there.
   */
  releasedSteps: Map<string, string>;
  /**
   * Of those, the steps whose containment a release kept in force by decision (credentials): still
   * in force, yet run again by the next capture, which contains from its own time.
   */
  keptSteps: Map<string, string>;
  aborted: boolean;
}

type Scalars = Omit<JournalState, 'steps' | 'artifacts' | 'changes' | 'intents' | 'limitations'>;

/**
 * The running fold. Later events win, so a step that failed and then succeeded is done; an artifact
 * or change recorded again replaces the earlier record and moves to the end.
 */
export class JournalFold {
  readonly steps = new Map<string, StepState>();
  readonly intents = new Map<string, JsonObject[]>();
  #artifacts = new Map<string, ArtifactRecord>();
  #changes = new Map<string, ChangeRecord>();
  /** Artifact and change ids per step, for a resumed step's `previous` records. */
  #byStep = new Map<string, Set<string>>();
  #limitations = new Set<string>();
  #scalars: Scalars = { released: new Map(), releasedSteps: new Map(), keptSteps: new Map(), aborted: false };

  /** The artifact recorded under `id`, if any. */
  artifact(id: string): ArtifactRecord | undefined {
    return this.#artifacts.get(id);
  }

  /** The change recorded under `id`, if any. */
  change(id: string): ChangeRecord | undefined {
    return this.#changes.get(id);
  }

  /**
   * Whether a release ended the change `id`'s containment episode (restored it, or kept it in force
   * by decision) and nothing made it again since.
   */
  isReleased(id: string): boolean {
    const r = this.#scalars.released.get(id);
    return Boolean(r?.restored || r?.kept);
  }

  /** What an earlier run of `stepId` recorded. */
  recordedBy(stepId: string): { artifacts: ArtifactRecord[]; changes: ChangeRecord[] } {
    const ids = [...(this.#byStep.get(stepId) ?? [])];
    return {
      artifacts: ids.flatMap((id) => this.#artifacts.get(id) ?? []).filter((a) => a.stepId === stepId),
      changes: ids.flatMap((id) => this.#changes.get(id) ?? []).filter((c) => c.stepId === stepId),
    };
  }

  #index(stepId: string, id: string): void {
    let set = this.#byStep.get(stepId);
    if (!set) this.#byStep.set(stepId, (set = new Set()));
    set.add(id);
  }

  /** Fold one event in. */
  apply(e: CaptureEvent): void {
    const s = this.#scalars;
    s.firstAt ??= e.at;
    s.lastAt = e.at;
    switch (e.type) {
      case 'capture.started':
        s.captureId ??= e.captureId;
        s.planDigest = e.planDigest;
        s.operator = e.operator;
        s.tool = e.tool;
        s.lastStart = e;
        s.aborted = false;
        break;
      case 'step.started': {
        const step = this.#stepOf(e.stepId);
        step.status = 'started';
        step.attempts++;
        break;
      }
      case 'step.intent': {
        const list = this.intents.get(e.stepId) ?? [];
        list.push(e.what);
        this.intents.set(e.stepId, list);
        break;
      }
      case 'artifact.recorded':
        this.#artifacts.delete(e.artifact.id);
        this.#artifacts.set(e.artifact.id, e.artifact);
        this.#index(e.artifact.stepId, e.artifact.id);
        break;
      case 'change.recorded':
        this.#changes.delete(e.change.id);
        this.#changes.set(e.change.id, e.change);
        this.#index(e.change.stepId, e.change.id);
        // Made again after a release (a re-contain): the next release must undo it again.
        s.released.delete(e.change.id);
        break;
      case 'step.done':
        s.releasedSteps.delete(e.stepId);
        s.keptSteps.delete(e.stepId);
        Object.assign(this.#stepOf(e.stepId), {
          status: 'done',
          outputs: e.outputs,
          limitations: e.limitations,
          failure: undefined,
        });
        break;
      case 'step.failed':
        Object.assign(this.#stepOf(e.stepId), {
          status: 'failed',
          failure: { stepId: e.stepId, code: e.code, message: e.message, retryable: e.retryable },
        });
        break;
      case 'step.skipped': {
        const step = this.#stepOf(e.stepId);
        if (step.status !== 'done')
          Object.assign(step, { status: e.reason === 'awaits-approval' ? 'waiting' : 'skipped', detail: e.detail });
        break;
      }
      case 'capture.limitation':
        this.#limitations.add(e.message);
        break;
      case 'capture.aborted':
        s.aborted = true;
        break;
      case 'capture.sealed':
        s.sealed = {
          status: e.status,
          manifestKey: e.manifestKey,
          ...(e.manifestVersionId ? { manifestVersionId: e.manifestVersionId } : {}),
          journalKey: e.journalKey,
          seq: e.seq,
        };
        break;
      case 'change.released': {
        s.released.set(e.changeId, { restored: e.restored, at: e.at, ...(e.kept ? { kept: true } : {}) });
        const stepId = this.#changes.get(e.changeId)?.stepId;
        // Kept in force still ends the episode: capturing again contains again, from its own time.
        if ((e.restored || e.kept) && stepId && this.steps.get(stepId)?.status === 'done')
          s.releasedSteps.set(stepId, e.at);
        if (e.kept && stepId) s.keptSteps.set(stepId, e.at);
        else if (e.restored && stepId) s.keptSteps.delete(stepId);
        break;
      }
      default:
        break;
    }
  }

  /**
   * The state as plain data (copies of the lists): capture limitations first, then each step's in
   * step order. Built on demand — at the end of a run, for reports — never per step.
   */
  state(): JournalState {
    const limitations = [...this.#limitations];
    const seen = new Set(limitations);
    for (const step of this.steps.values())
      for (const l of step.limitations ?? [])
        if (!seen.has(l)) {
          seen.add(l);
          limitations.push(l);
        }
    return {
      ...this.#scalars,
      steps: this.steps,
      artifacts: [...this.#artifacts.values()],
      changes: [...this.#changes.values()],
      intents: this.intents,
      limitations,
    };
  }

  #stepOf(id: string): StepState {
    let step = this.steps.get(id);
    if (!step) {
      step = { status: 'started', attempts: 0 };
      this.steps.set(id, step);
    }
    return step;
  }
}

/** Fold a whole list of events (reports, verify, release: read once). */
export function deriveJournalState(events: readonly CaptureEvent[]): JournalState {
  const fold = new JournalFold();
  for (const e of events) fold.apply(e);
  return fold.state();
}
