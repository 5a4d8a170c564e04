/**
 * Situation reports in the incident plan's format, folded from the journal (pure): severity, status,
 * who holds the roles, what was preserved, collected and contained (and who may still reach it),
 * what failed or waits for approval, time to containment, next steps and the limitations. Rendered
 * for Slack (src/report/slack.ts), tickets (Markdown), terminals (text) and tools (JSON).
 */
import type { CaptureEvent } from '../core/events.js';
import type { Case, JsonObject } from '../core/types.js';
import { deriveJournalState } from '../evidence/journal-state.js';
import { foldRoles, type IncidentRoles } from '../evidence/roles.js';
import { foldTimeline, type Timeline } from '../evidence/timeline.js';
import { lastSealIndex } from '../evidence/seals.js';
import { storeObjectLocation } from '../evidence/store-keys.js';
import type { StoreSpec } from '../core/types.js';
import type { RunState } from './status.js';

/** The formats `evidence sitrep --format` writes. */
export const SITREP_FORMATS = ['slack', 'markdown', 'text', 'json'] as const;
export type SitrepFormat = (typeof SITREP_FORMATS)[number];

/**
 * investigating: evidence not yet secured; confirmed: evidence secured, containment pending;
 * contained; released: containment lifted by `evidence release` (not one of the plan's, but true);
 * false-alarm: the Incident Commander declared it one.
 */
export type SitrepStatus = 'investigating' | 'confirmed' | 'contained' | 'released' | 'false-alarm';

/** Which sitrep this is: a regular update, the one an IC hand-over posts, or the final false-alarm one. */
export type SitrepKind = 'update' | 'hand-over' | 'false-alarm';

export interface Sitrep {
  kind: SitrepKind;
  subject: string;
  incident: string;
  severity: string;
  status: SitrepStatus;
  at: string;
  commander?: string;
  responders: string[];
  handOver?: IncidentRoles['handOver'];
  /** Who may still reach what is contained: the case's forensic CIDRs (and ports). */
  forensicAccess: string[];
  preserved: string[];
  /** Artifacts a seal covers: evidence an examiner can verify. */
  collected: string[];
  /** Artifacts journaled after the last seal: recorded, but nothing vouches for them yet. */
  unsealed: string[];
  contained: string[];
  /** What was contained and has since been lifted by `evidence release`, with when. */
  released: string[];
  failed: string[];
  waiting: string[];
  /** Every limitation in full. */
  limitations: string[];
  /** The same limitations folded to one line each (the full text stays in `limitations`). */
  limitationLines: string[];
  nextSteps: string[];
  /** Time to containment in words ("not yet", "4.2 s", "3.1 min", with per-target p50/p95/max over several). */
  timeToContainment: string;
  timeline: Timeline;
  manifest?: string;
  /** Set when the last run stopped before its seal and no process runs it: what to do, one line. */
  interrupted?: string;
}

/** Longest folded limitation line, in characters. */
export const LIMITATION_LINE_MAX = 110;

/**
 * One line for a limitation: its first clause (up to a colon, semicolon, dash or sentence end) when
 * that says enough on its own, cut at LIMITATION_LINE_MAX characters.
 */
export function foldLimitation(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const clause = /^(.{24,}?)(?::\s|;\s|\s—\s|\.\s|\s\(\s?)/.exec(flat)?.[1] ?? flat;
  return clause.length <= LIMITATION_LINE_MAX ? clause : `${clause.slice(0, LIMITATION_LINE_MAX - 1).trimEnd()}…`;
}

/** Seconds under a minute: a drill contains in under one, and "0.0 min" reads as "nothing happened". */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return 'not yet';
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

/**
 * Build a sitrep from an incident's journal events; `now` is passed in so this stays pure. `run`
 * (from the incident's lock, when read) tells an interrupted run from a running one.
 */
export function buildSitrep(
  incident: string,
  events: readonly CaptureEvent[],
  now: string,
  options: { kind?: SitrepKind; run?: RunState | undefined } = {},
): Sitrep {
  const state = deriveJournalState(events);
  const roles = foldRoles(events);
  const start = state.lastStart;
  const kase = start?.case as Partial<Case> | undefined;
  const severity = String(kase?.severity ?? 'unknown');
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
  const status: SitrepStatus = roles.falseAlarm
    ? 'false-alarm'
    : releasedContain.length
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
  // Credential containment a release kept in force is still in force.
  const stillHeld = (id: string) => !state.releasedSteps.has(id) || state.keptSteps.has(id);
  const contained = containedLines(planned, state, line, stillHeld);
  const released = containedLines(planned, state, line, (id) => !stillHeld(id));
  const releasedAt = [...state.releasedSteps.values()].sort().at(-1);

  const interrupted = options.run?.state === 'interrupted' ? options.run.resume : undefined;
  const nextSteps = nextStepsFor({
    status,
    interrupted,
    pending: pending.length,
    failed: failed.length,
    waiting: waiting.length,
    sealed: Boolean(state.sealed),
    unsealedEvents: events.length - 1 - sealedThrough,
    stillContained: contained.length > 0,
    commander: roles.commander,
  });
  const kind = options.kind ?? (status === 'false-alarm' ? 'false-alarm' : 'update');
  const timeline = foldTimeline(events);
  const heading =
    kind === 'hand-over' && roles.handOver
      ? `IC hand-over ${roles.handOver.from ?? '(none named)'} → ${roles.handOver.to}`
      : kind === 'false-alarm'
        ? 'FINAL — false alarm'
        : `${status}${interrupted ? ' (interrupted)' : ''}`;
  return {
    kind,
    subject: `[${severity.toUpperCase()}] ${incident} — ${heading}: ${artifacts.length} artifacts, ${failed.length} failures${waiting.length ? `, ${waiting.length} awaiting approval` : ''}`,
    incident,
    severity,
    status,
    at: now,
    ...(roles.commander ? { commander: roles.commander } : {}),
    responders: roles.responders,
    ...(roles.handOver ? { handOver: roles.handOver } : {}),
    forensicAccess: forensicAccess(kase),
    preserved: inPhase('preserve', 'done'),
    collected: artifacts,
    unsealed,
    contained,
    released: releasedAt ? released.map((l) => `${l} (released ${releasedAt})`) : released,
    failed,
    waiting,
    limitations: state.limitations,
    limitationLines: state.limitations.map(foldLimitation),
    nextSteps,
    timeToContainment: timeToContainmentText(timeline),
    timeline,
    ...(state.sealed ? { manifest: manifestLocation(kase, state.sealed.manifestKey) } : {}),
    ...(interrupted ? { interrupted } : {}),
  };
}

function timeToContainmentText(t: Timeline): string {
  const overall = formatDuration(t.timeToContainmentMs);
  const p = t.perTarget;
  if (!p || p.targets < 2) return `${overall}${episodeNote(t)}`;
  return `${overall} (per target over ${p.targets}: p50 ${formatDuration(p.p50Ms)}, p95 ${formatDuration(p.p95Ms)}, max ${formatDuration(p.maxMs)})${episodeNote(t)}`;
}

/** Which containment episode the time is measured in, once a release has ended the first. */
function episodeNote(timeline: Timeline): string {
  const episodes = timeline.episodes;
  const last = episodes?.at(-1);
  if (!episodes || !last) return '';
  return ` — containment episode ${last.episode}, measured from the capture at ${last.startedAt} (after the release at ${episodes.at(-2)?.releasedAt ?? '?'}), not from the first capture${last.releasedAt ? `; released again at ${last.releasedAt}` : ''}`;
}

/** Who may still reach a contained resource, in words. */
function forensicAccess(kase: Partial<Case> | undefined): string[] {
  const cidrs = kase?.forensicCidrs ?? [];
  if (!cidrs.length) return [];
  const ports = kase?.forensicPorts?.length
    ? ` on ports ${kase.forensicPorts.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(', ')}`
    : ' on every port';
  return cidrs.map((c) => `${c}${ports}`);
}

function nextStepsFor(s: {
  status: SitrepStatus;
  interrupted: string | undefined;
  pending: number;
  failed: number;
  waiting: number;
  sealed: boolean;
  unsealedEvents: number;
  stillContained: boolean;
  commander: string | undefined;
}): string[] {
  const next: string[] = [];
  if (!s.commander) next.push('name the Incident Commander: `evidence sitrep --incident ID --take-over-ic NAME`');
  if (s.status === 'false-alarm') {
    if (s.stillContained)
      next.push('lift containment: `evidence release --incident ID --approve` (the evidence is kept, not deleted)');
    next.push('keep the sealed evidence for the record; close the incident channel');
    return next;
  }
  if (s.interrupted)
    next.push(`${s.interrupted}${s.pending ? ` (${s.pending} steps not finished; no process is running them)` : ''}`);
  else if (s.pending)
    next.push(`finish the capture: run the same \`evidence capture\` again (${s.pending} steps not finished)`);
  if (s.failed)
    next.push(
      'review the failures above; fix permissions or inputs and re-run the capture (finished steps are not repeated)',
    );
  if (s.waiting) next.push('decide on containment: re-run with --approve-containment once agreed');
  if (s.status === 'released')
    next.push(
      'containment was lifted by `evidence release`; to contain again, run the same `evidence capture` (its containment steps run again; evidence already taken is kept, not retaken)',
    );
  if (s.status === 'contained')
    next.push(
      'hand the evidence to forensics: `evidence verify` before analysis; `evidence release --approve` only after eradication',
    );
  if (!s.sealed) next.push('the manifest is not sealed yet');
  else if (s.unsealedEvents > 0 && !s.interrupted)
    next.push(
      `${s.unsealedEvents} journal events follow the last seal and are not sealed yet: finish the running capture or release (run it again) to seal them`,
    );
  return next;
}

/**
 * What containment holds (or held), per target the responder named: contain steps done and
 * selected by `pick` (not released, or released), each as its `outputs.contained` lines (the host
 * with its Name tag, its interfaces; revoked sessions with their time) or else its title. Steps on
 * targets that exist only in the contain phase (the per-VPC isolation groups, shared plumbing) are
 * left out; listed, they read as near duplicates of the swaps that used them.
 */
function containedLines(
  planned: { id: string; phase: string; target: string }[],
  state: ReturnType<typeof deriveJournalState>,
  line: (id: string) => string,
  pick: (stepId: string) => boolean,
): string[] {
  const named = new Set(planned.filter((p) => p.phase !== 'contain').map((p) => p.target));
  return planned
    .filter((p) => p.phase === 'contain' && named.has(p.target))
    .filter((p) => state.steps.get(p.id)?.status === 'done' && pick(p.id))
    .flatMap((p) => outputLines(state.steps.get(p.id)?.outputs) ?? [line(p.id)]);
}

function outputLines(outputs: JsonObject | undefined): string[] | undefined {
  const lines = outputs?.contained;
  return Array.isArray(lines) && lines.length ? lines.map(String) : undefined;
}

/** The sitrep's sections in the order every format shows them; `empty` is what an empty one says. */
export function sitrepSections(s: Sitrep): { title: string; items: string[]; empty?: string }[] {
  return [
    { title: 'Preserved', items: s.preserved },
    { title: 'Collected', items: s.collected },
    ...(s.unsealed.length ? [{ title: 'Recorded, not sealed yet', items: s.unsealed }] : []),
    { title: 'Contained', items: s.contained },
    ...(s.contained.length
      ? [{ title: 'Still reachable from', items: s.forensicAccess, empty: 'nobody: no forensic CIDR was given' }]
      : []),
    ...(s.released.length ? [{ title: 'Contained, then released', items: s.released }] : []),
    { title: 'Failed', items: s.failed },
    { title: 'Waiting for approval', items: s.waiting },
    { title: 'Next steps', items: s.nextSteps },
    { title: 'Limitations', items: s.limitationLines },
  ];
}

/** The sitrep's header facts, label → value, in every format's order. */
export function sitrepFacts(s: Sitrep): [string, string][] {
  return [
    ['Severity', s.severity],
    ['Status', s.status],
    ['Incident Commander', s.commander ?? 'not named'],
    ['Responders', s.responders.length ? s.responders.join(', ') : 'none named'],
    ['Time to containment', s.timeToContainment],
    ['As of', s.at],
    ...(s.manifest ? ([['Manifest', s.manifest]] as [string, string][]) : []),
  ];
}

/** Markdown for tickets (GitHub, GitLab, JIRA's Markdown import): headings, bold labels, full limitations folded. */
export function renderSitrepMarkdown(s: Sitrep): string {
  const list = (items: string[], empty = 'none') =>
    (items.length ? items : [empty]).map((i) => `- ${escapeMarkdown(i)}`).join('\n');
  const facts = sitrepFacts(s).map(([k, v]) => `**${k}:** ${k === 'Manifest' ? `\`${v}\`` : escapeMarkdown(v)}`);
  const intro =
    s.kind === 'hand-over' && s.handOver
      ? [
          `Incident Commander duties pass from ${s.handOver.from ?? '(none named)'} to **${s.handOver.to}** as of ${s.handOver.at}.`,
          '',
        ]
      : s.kind === 'false-alarm'
        ? ['**This incident was a false alarm.** This is the final sitrep.', '']
        : [];
  return [
    `## ${s.subject}`,
    '',
    ...intro,
    facts.slice(0, 2).join(' · '),
    facts.slice(2, 4).join(' · '),
    facts.slice(4).join(' · '),
    '',
    ...sitrepSections(s).flatMap((sec) => [`### ${sec.title}`, list(sec.items, sec.empty)]),
    ...(s.limitations.length
      ? ['', '<details><summary>Limitations in full</summary>', '', list(s.limitations), '', '</details>']
      : []),
    '',
  ].join('\n');
}

/** Plain text for a terminal or an e-mail: no markup, one fact per line. */
export function renderSitrepText(s: Sitrep): string {
  const width = Math.max(...sitrepFacts(s).map(([k]) => k.length));
  const intro =
    s.kind === 'hand-over' && s.handOver
      ? [
          `Incident Commander duties pass from ${s.handOver.from ?? '(none named)'} to ${s.handOver.to} as of ${s.handOver.at}.`,
        ]
      : s.kind === 'false-alarm'
        ? ['This incident was a false alarm. This is the final sitrep.']
        : [];
  return [
    s.subject,
    ...intro,
    ...sitrepFacts(s).map(([k, v]) => `  ${`${k}:`.padEnd(width + 1)} ${v}`),
    ...sitrepSections(s).flatMap((sec) =>
      sec.items.length
        ? [`${sec.title}:`, ...sec.items.map((i) => `  - ${i}`)]
        : [`${sec.title}: ${sec.empty ?? 'none'}`],
    ),
    '',
  ].join('\n');
}

/** Characters Markdown would read as markup inside a list item (names and messages are input). */
function escapeMarkdown(text: string): string {
  return text.replace(/([\\*_[\]<>|])/g, '\\$1');
}

/** The sealed manifest as a responder can open it: an absolute path or a full s3:// URI, else the store key. */
function manifestLocation(journaledCase: { store?: StoreSpec } | undefined, key: string): string {
  return journaledCase?.store ? storeObjectLocation(journaledCase.store, key) : key;
}
