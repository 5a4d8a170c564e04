/**
 * Situation reports in the incident plan's format, folded from the journal (pure): what was
 * preserved, collected and contained, what failed, what waits for approval, and what comes next.
 */
import type { CaptureEvent } from '../core/events.js';
import type { JsonObject } from '../core/types.js';
import { deriveJournalState } from '../evidence/journal-state.js';
import { foldTimeline, type Timeline } from '../evidence/timeline.js';
import { lastSealIndex } from '../evidence/seals.js';
import { storeObjectLocation } from '../evidence/store-keys.js';
import type { StoreSpec } from '../core/types.js';
import type { RunState } from './status.js';

export interface Sitrep {
  subject: string;
  incident: string;
  severity: string;
  /**
   * investigating: evidence not yet secured; confirmed: evidence secured, containment pending;
   * contained; released: containment lifted by `evidence release` (not one of the plan's, but true).
   */
  status: 'investigating' | 'confirmed' | 'contained' | 'released';
  at: string;
  preserved: string[];
  /** Artifacts a seal covers: evidence an examiner can verify. */
  collected: string[];
  /** Artifacts journaled after the last seal: recorded, but nothing vouches for them yet. */
  unsealed: string[];
  contained: string[];
  failed: string[];
  waiting: string[];
  limitations: string[];
  nextSteps: string[];
  timeline: Timeline;
  manifest?: string;
  /** Set when the last run stopped before its seal and no process runs it: what to do, one line. */
  interrupted?: string;
}

/**
 * Build a sitrep from an incident's journal events; `now` is passed in so this stays pure. `run`
 * (from the incident's lock, when read) tells an interrupted run from a running one.
 */
export function buildSitrep(incident: string, events: readonly CaptureEvent[], now: string, run?: RunState): Sitrep {
  const state = deriveJournalState(events);
  const start = state.lastStart;
  const severity = String((start?.case as { severity?: string } | undefined)?.severity ?? 'unknown');
  const planned = start?.plannedSteps ?? [];
  const titles = new Map(planned.map((p) => [p.id, p.title]));
  const line = (id: string) => titles.get(id) ?? id;
  const inPhase = (phase: string, status: string) =>
    planned.filter((p) => p.phase === phase && state.steps.get(p.id)?.status === status).map((p) => line(p.id));

  const failed = planned
    .filter((p) => ['failed', 'skipped'].includes(state.steps.get(p.id)?.status ?? ''))
    .map(
      (p) => `${line(p.id)}: ${state.steps.get(p.id)?.failure?.message ?? state.steps.get(p.id)?.detail ?? 'not run'}`,
    );
  const waiting = planned.filter((p) => state.steps.get(p.id)?.status === 'waiting').map((p) => line(p.id));
  const pending = planned.filter((p) => !state.steps.has(p.id) || state.steps.get(p.id)?.status === 'started');
  const contain = planned.filter((p) => p.phase === 'contain');
  const collectDone = planned
    .filter((p) => p.phase === 'collect')
    .every((p) => state.steps.get(p.id)?.status === 'done');
  const releasedContain = contain.filter((p) => state.releasedSteps.has(p.id));
  const containDone =
    contain.length > 0 && contain.every((p) => state.steps.get(p.id)?.status === 'done') && !releasedContain.length;
  const status: Sitrep['status'] = releasedContain.length
    ? 'released'
    : containDone
      ? 'contained'
      : collectDone && planned.length
        ? 'confirmed'
        : 'investigating';

  // Only what a seal covers is collected evidence; a line after the last seal could have been appended by anyone.
  const sealedThrough = lastSealIndex(events);
  const unsealedIds = new Set(
    events.slice(sealedThrough + 1).flatMap((e) => (e.type === 'artifact.recorded' ? [e.artifact.id] : [])),
  );
  const describe = (a: (typeof state.artifacts)[number]) =>
    `${a.type} ${a.id}${a.sha256 ? ` (sha256 ${a.sha256.slice(0, 12)}…)` : ''}`;
  const artifacts = state.artifacts.filter((a) => !unsealedIds.has(a.id)).map(describe);
  const unsealed = state.artifacts.filter((a) => unsealedIds.has(a.id)).map(describe);

  const nextSteps: string[] = [];
  const interrupted = run?.state === 'interrupted' ? run.resume : undefined;
  if (interrupted)
    nextSteps.push(
      `${interrupted}${pending.length ? ` (${pending.length} steps not finished; no process is running them)` : ''}`,
    );
  else if (pending.length)
    nextSteps.push(
      `finish the capture: run the same \`evidence capture\` again (${pending.length} steps not finished)`,
    );
  if (failed.length)
    nextSteps.push(
      'review the failures above; fix permissions or inputs and re-run the capture (finished steps are not repeated)',
    );
  if (waiting.length) nextSteps.push('decide on containment: re-run with --approve-containment once agreed');
  if (status === 'released')
    nextSteps.push(
      'containment was lifted by `evidence release`; to contain again, run the same `evidence capture` (its containment steps run again; evidence already taken is kept, not retaken)',
    );
  if (status === 'contained')
    nextSteps.push(
      'hand the evidence to forensics: `evidence verify` before analysis; `evidence release --approve` only after eradication',
    );
  if (!state.sealed) nextSteps.push('the manifest is not sealed yet');
  else if (sealedThrough < events.length - 1 && !interrupted)
    nextSteps.push(
      `${events.length - 1 - sealedThrough} journal events follow the last seal and are not sealed yet: finish the running capture or release (run it again) to seal them`,
    );

  return {
    subject: `[${severity.toUpperCase()}] ${incident} — ${status}${interrupted ? ' (interrupted)' : ''}: ${artifacts.length} artifacts, ${failed.length} failures${waiting.length ? `, ${waiting.length} awaiting approval` : ''}`,
    incident,
    severity,
    status,
    at: now,
    preserved: inPhase('preserve', 'done'),
    collected: artifacts,
    unsealed,
    contained: containedLines(planned, state, line),
    failed,
    waiting,
    limitations: state.limitations,
    nextSteps,
    timeline: foldTimeline(events),
    ...(interrupted ? { interrupted } : {}),
    ...(state.sealed
      ? { manifest: manifestLocation(start?.case as { store?: StoreSpec } | undefined, state.sealed.manifestKey) }
      : {}),
  };
}

/**
 * What is cut off now, per target the responder named: contain steps done and not released, each as
 * its title or, when it says more (revoked sessions with their time and blast radius, each
 * deactivated key), its `outputs.contained` lines. Steps on targets that exist only in the contain
 * phase (the per-VPC isolation groups, shared plumbing) are left out; listed, they read as near
 * duplicates of the swaps that used them.
 */
function containedLines(
  planned: { id: string; phase: string; target: string }[],
  state: ReturnType<typeof deriveJournalState>,
  line: (id: string) => string,
): string[] {
  const named = new Set(planned.filter((p) => p.phase !== 'contain').map((p) => p.target));
  return planned
    .filter((p) => p.phase === 'contain' && named.has(p.target))
    .filter((p) => state.steps.get(p.id)?.status === 'done' && !state.releasedSteps.has(p.id))
    .flatMap((p) => outputLines(state.steps.get(p.id)?.outputs) ?? [line(p.id)]);
}

function outputLines(outputs: JsonObject | undefined): string[] | undefined {
  const lines = outputs?.contained;
  return Array.isArray(lines) && lines.length ? lines.map(String) : undefined;
}

/** Markdown for chat or an issue tracker. */
export function renderSitrepMarkdown(s: Sitrep): string {
  const list = (items: string[]) => (items.length ? items.map((i) => `- ${i}`).join('\n') : '- none');
  // Seconds under a minute: a drill contains in under one, and "0.0 min" reads as "nothing happened".
  const duration = (ms?: number) =>
    ms === undefined ? 'not yet' : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
  return [
    `## ${s.subject}`,
    '',
    `**Severity:** ${s.severity} · **Status:** ${s.status} · **As of:** ${s.at}${s.manifest ? ` · **Manifest:** \`${s.manifest}\`` : ''}`,
    `**Time to containment:** ${duration(s.timeline.timeToContainmentMs)}${
      s.timeline.perTarget && s.timeline.perTarget.targets > 1
        ? ` (per target over ${s.timeline.perTarget.targets}: p50 ${duration(s.timeline.perTarget.p50Ms)}, p95 ${duration(s.timeline.perTarget.p95Ms)}, max ${duration(s.timeline.perTarget.maxMs)})`
        : ''
    }`,
    '',
    '### Preserved',
    list(s.preserved),
    '### Collected',
    list(s.collected),
    ...(s.unsealed.length ? ['### Recorded, not sealed yet', list(s.unsealed)] : []),
    '### Contained',
    list(s.contained),
    '### Failed',
    list(s.failed),
    '### Waiting for approval',
    list(s.waiting),
    '### Limitations',
    list(s.limitations),
    '### Next steps',
    list(s.nextSteps),
    '',
  ].join('\n');
}

/** The sealed manifest as a responder can open it: an absolute path or a full s3:// URI, else the store key. */
function manifestLocation(journaledCase: { store?: StoreSpec } | undefined, key: string): string {
  return journaledCase?.store ? storeObjectLocation(journaledCase.store, key) : key;
}
