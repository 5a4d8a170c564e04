/** What is done, pending and failed for an incident, read from its journal (pure over events). */
import type { CaptureEvent } from '../core/events.js';
import { deriveJournalState } from '../evidence/journal-state.js';
import { unsealedTail } from '../evidence/seals.js';

export interface StatusStep {
  id: string;
  title: string;
  phase: string;
  target: string;
  /** `released`: done, then undone by `evidence release`; a new capture runs it again. */
  status: 'done' | 'released' | 'failed' | 'waiting' | 'skipped' | 'running' | 'pending';
  detail?: string;
}

export interface StatusReport {
  incident: string;
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

/** Summarise a journal for `evidence status`. */
export function statusFromJournal(incident: string, events: readonly CaptureEvent[]): StatusReport {
  const state = deriveJournalState(events);
  const lastStart = [...events]
    .reverse()
    .find((e): e is Extract<CaptureEvent, { type: 'capture.started' }> => e.type === 'capture.started');
  const planned = lastStart?.plannedSteps ?? [];
  const steps: StatusStep[] = planned.map((p) => {
    const s = state.steps.get(p.id);
    const status: StatusStep['status'] = !s
      ? 'pending'
      : s.status === 'started'
        ? 'running'
        : s.status === 'done' && state.releasedSteps.has(p.id)
          ? 'released'
          : s.status;
    const detail = s?.failure?.message ?? s?.detail;
    return { ...p, status, ...(detail ? { detail } : {}) };
  });
  const counts = { done: 0, released: 0, failed: 0, waiting: 0, skipped: 0, running: 0, pending: 0 };
  for (const s of steps) counts[s.status]++;
  const sealedEvent = [...events].reverse().find((e) => e.type === 'capture.sealed');
  const tail = unsealedTail(events);
  return {
    incident,
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
