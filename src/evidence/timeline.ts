/**
 * The retrospective timeline (pure): first action, each phase's start and end, when each target's
 * containment completed, and time to containment per target and overall. Time to containment is
 * measured per containment episode: a capture after a release starts a new episode, and a target
 * contained again counts from that capture, not from the first one.
 */
import type { CaptureEvent } from '../core/events.js';
import { PHASES } from '../core/types.js';

export interface Timeline {
  captureStartedAt?: string;
  firstActionAt?: string;
  phases: { phase: string; startedAt: string; endedAt?: string }[];
  containment: { target: string; containedAt: string; timeToContainmentMs: number; episode?: number }[];
  /**
   * Present once a release ended the first episode: each episode's start (the first capture after
   * the previous release) and, when released, the release's start. Containment entries then name
   * the episode (1-based) their time is measured in.
   */
  episodes?: { episode: number; startedAt: string; releasedAt?: string }[];
  /** Until the last target was contained; absent while any planned containment is unfinished. */
  timeToContainmentMs?: number;
  /** Time to containment across the targets contained so far (nearest-rank percentiles). */
  perTarget?: ContainmentStats;
}

/** Time-to-containment percentiles over targets. */
export interface ContainmentStats {
  targets: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** Nearest-rank p50/p95/max of per-target times; undefined for none. */
export function containmentStats(times: readonly number[]): ContainmentStats | undefined {
  if (!times.length) return undefined;
  const sorted = [...times].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  return { targets: sorted.length, p50Ms: rank(0.5), p95Ms: rank(0.95), maxMs: sorted.at(-1)! };
}

type Planned = { id: string; phase: string; target: string };

/** Fold events into a timeline. */
export function foldTimeline(events: readonly CaptureEvent[]): Timeline {
  const started = events.find((e) => e.type === 'capture.started');
  const planned = new Map<string, Planned>();
  for (const e of events) if (e.type === 'capture.started') for (const p of e.plannedSteps ?? []) planned.set(p.id, p);
  const phaseStart = new Map<string, string>();
  const phaseEnd = new Map<string, string>();
  const doneAt = new Map<string, string>();
  let firstActionAt: string | undefined;
  const episodes: { episode: number; startedAt: string; releasedAt?: string }[] = [];
  for (const e of events) {
    const current = episodes.at(-1);
    if (e.type === 'capture.started' && (!current || current.releasedAt))
      episodes.push({ episode: episodes.length + 1, startedAt: e.at });
    if (e.type === 'release.started' && current && !current.releasedAt) current.releasedAt = e.at;
    const step = e.stepId ? planned.get(e.stepId) : undefined;
    if (!step) continue;
    if (e.type === 'step.started') {
      firstActionAt ??= e.at;
      if (!phaseStart.has(step.phase)) phaseStart.set(step.phase, e.at);
    }
    if (e.type === 'step.done' || e.type === 'step.failed' || e.type === 'step.skipped') phaseEnd.set(step.phase, e.at);
    if (e.type === 'step.done') doneAt.set(step.id, e.at);
  }
  const origin = started?.at;
  const containment: Timeline['containment'] = [];
  // Contain steps grouped by target once: a fleet has thousands of targets.
  const containByTarget = new Map<string, Planned[]>();
  for (const p of planned.values()) {
    if (p.phase !== 'contain') continue;
    const list = containByTarget.get(p.target) ?? [];
    list.push(p);
    containByTarget.set(p.target, list);
  }
  let allContained = containByTarget.size > 0;
  for (const target of [...containByTarget.keys()].sort()) {
    const steps = containByTarget.get(target)!;
    const times = steps.map((s) => doneAt.get(s.id));
    if (times.some((t) => !t) || !origin) {
      allContained = false;
      continue;
    }
    const containedAt = times.sort().at(-1)!;
    // Measured from the start of the episode the target's containment completed in.
    const episode = [...episodes].reverse().find((ep) => ep.startedAt <= containedAt);
    containment.push({
      target,
      containedAt,
      timeToContainmentMs: Date.parse(containedAt) - Date.parse(episode?.startedAt ?? origin),
      ...(episodes.length > 1 && episode ? { episode: episode.episode } : {}),
    });
  }
  const perTarget = containmentStats(containment.map((c) => c.timeToContainmentMs));
  const overall = allContained ? perTarget?.maxMs : undefined;
  return {
    ...(origin ? { captureStartedAt: origin } : {}),
    ...(firstActionAt ? { firstActionAt } : {}),
    phases: PHASES.filter((p) => phaseStart.has(p)).map((p) => ({
      phase: p,
      startedAt: phaseStart.get(p)!,
      ...(phaseEnd.has(p) ? { endedAt: phaseEnd.get(p)! } : {}),
    })),
    containment,
    ...(episodes.length > 1 ? { episodes } : {}),
    ...(overall !== undefined ? { timeToContainmentMs: overall } : {}),
    ...(perTarget ? { perTarget } : {}),
  };
}
