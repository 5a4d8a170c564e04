/** What is done, pending and failed for an incident, read from its journal (pure over events). */
import type { CaptureEvent } from '../core/events.js';
import { deriveJournalState } from '../evidence/journal-state.js';
import { unsealedTail } from '../evidence/seals.js';
import type { LockState } from '../engine/incident-lock.js';

export interface StatusStep {
  id: string;
  title: string;
  phase: string;
  target: string;
  /**
   * `released`: done, then undone by `evidence release`; a new capture runs it again. `interrupted`:
   * started by a run that no process runs any more (killed, Ctrl-C); the same command resumes it.
   */
  status: 'done' | 'released' | 'failed' | 'waiting' | 'skipped' | 'running' | 'interrupted' | 'pending';
  detail?: string;
}

/** Whether a run of the incident is going on, read from its lock beside the journal. */
export interface RunState {
  /**
   * running: a live process holds the incident's lock; interrupted: the last run stopped before its
   * seal and no process runs it; idle: the last run sealed. `unknown` when no lock could be read
   * (a journal read from the store): started steps then read as running, as the journal says.
   */
  state: 'running' | 'interrupted' | 'idle' | 'unknown';
  /** The last run's command. */
  command?: 'capture' | 'release';
  /** Who runs it (running), or who ran it and is gone (interrupted by a kill). */
  holder?: { pid: number; host: string };
  /** What to do, for an interrupted run: one line. */
  resume?: string;
}

/** The run state of a journal given its lock (undefined: no lock was read, e.g. a journal from the store). */
export function runStateOf(events: readonly CaptureEvent[], lock: LockState | undefined): RunState {
  const last = [...events].reverse().find((e) => e.type === 'capture.started' || e.type === 'release.started');
  const command: RunState['command'] = last?.type === 'release.started' ? 'release' : last ? 'capture' : undefined;
  const base = command ? { command } : {};
  if (!lock) return { state: 'unknown', ...base };
  if (lock.state === 'running')
    return { state: 'running', ...base, holder: { pid: lock.holder.pid, host: lock.holder.host } };
  const holder = lock.state === 'abandoned' ? { holder: { pid: lock.holder.pid, host: lock.holder.host } } : {};
  if (!unsealedTail(events).length) return { state: 'idle', ...base, ...holder };
  return {
    state: 'interrupted',
    ...base,
    ...holder,
    resume:
      command === 'release'
        ? 'interrupted; run the same `evidence release` to finish it'
        : 'interrupted; run the same capture to resume (finished steps are not repeated)',
  };
}

export interface StatusReport {
  incident: string;
  run: RunState;
  captureId?: string;
  steps: StatusStep[];
  counts: Record<StatusStep['status'], number>;
  sealed?: { status: string; manifestKey: string; at: string };
  /** Events after the last seal (or all, before any seal): covered by no seal yet. */
  unsealed: { events: number; fromSeq?: number; artifacts: number };
  artifacts: number;
  changes: number;
  released: number;
  limitations: string[];
  firstAt?: string;
  lastAt?: string;
}

/**
 * Summarise a journal for `evidence status`; with the incident's lock, a step no process runs any
 * more reads `interrupted`, not `running`.
 */
export function statusFromJournal(incident: string, events: readonly CaptureEvent[], lock?: LockState): StatusReport {
  const state = deriveJournalState(events);
  const run = runStateOf(events, lock);
  const { lastStart } = state;
  const planned = lastStart?.plannedSteps ?? [];
  const steps: StatusStep[] = planned.map((p) => {
    const s = state.steps.get(p.id);
    const status: StatusStep['status'] = !s
      ? 'pending'
      : s.status === 'started'
        ? run.state === 'running' || run.state === 'unknown'
          ? 'running'
          : 'interrupted'
        : s.status === 'done' && state.releasedSteps.has(p.id)
          ? 'released'
          : s.status;
    const detail = s?.failure?.message ?? s?.detail;
    return { ...p, status, ...(detail ? { detail } : {}) };
  });
  const counts = { done: 0, released: 0, failed: 0, waiting: 0, skipped: 0, running: 0, interrupted: 0, pending: 0 };
  for (const s of steps) counts[s.status]++;
  const sealedEvent = [...events].reverse().find((e) => e.type === 'capture.sealed');
  const tail = unsealedTail(events);
  return {
    incident,
    run,
    ...(state.captureId ? { captureId: state.captureId } : {}),
    steps,
    counts,
    ...(state.sealed && sealedEvent
      ? { sealed: { status: state.sealed.status, manifestKey: state.sealed.manifestKey, at: sealedEvent.at } }
      : {}),
    unsealed: {
      events: tail.length,
      ...(tail[0] ? { fromSeq: tail[0].seq } : {}),
      artifacts: tail.filter((e) => e.type === 'artifact.recorded').length,
    },
    artifacts: state.artifacts.length,
    changes: state.changes.length,
    released: [...state.released.values()].filter((r) => r.restored).length,
    limitations: state.limitations,
    ...(state.firstAt ? { firstAt: state.firstAt } : {}),
    ...(state.lastAt ? { lastAt: state.lastAt } : {}),
  };
}
