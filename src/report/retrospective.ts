/**
 * The retrospective report (pure over the journal and a verify report): the timeline as a picture
 * (each target's preserve → collect → contain → release bars on one time axis, failures, approvals
 * and role changes as marks), time to containment per target, every artifact with its hash and
 * location, every change with before and after, who acted with which tool version, the
 * verification result and the limitations. One self-contained HTML file (inline CSS and SVG, no
 * script, nothing fetched) or Markdown.
 */
import type { CaptureEvent } from '../core/events.js';
import type { ArtifactRecord, Case, ChangeRecord, Json, JsonObject } from '../core/types.js';
import { deriveJournalState } from '../evidence/journal-state.js';
import { foldRoles } from '../evidence/roles.js';
import { foldTimeline } from '../evidence/timeline.js';
import type { VerifyReport } from '../evidence/verify.js';
import { buildSitrep, formatDuration, type Sitrep } from './sitrep.js';

/** The bars a target's row can have, in order. */
export const TIMELINE_SEGMENTS = ['preserve', 'collect', 'contain', 'release'] as const;
export type TimelineSegment = (typeof TIMELINE_SEGMENTS)[number];

export interface TargetRow {
  target: string;
  segments: { segment: TimelineSegment; from: string; to: string }[];
  /** From the capture's start to this target's last contain step done. */
  timeToContainmentMs?: number;
}

export interface TimelineMark {
  at: string;
  kind: 'failure' | 'approval' | 'roles' | 'false-alarm' | 'seal';
  label: string;
  target?: string;
}

export interface Actor {
  what: string;
  at: string;
  who: string;
  tool?: string;
}

export interface RetrospectiveReport {
  incident: string;
  generatedAt: string;
  sitrep: Sitrep;
  startedAt?: string;
  endedAt?: string;
  rows: TargetRow[];
  marks: TimelineMark[];
  artifacts: ArtifactRecord[];
  changes: (ChangeRecord & { released?: { restored: boolean; at: string } })[];
  actors: Actor[];
  verification?: {
    ok: boolean;
    summary: string;
    items: { kind: string; id: string; status: string; detail: string }[];
  };
  verificationError?: string;
  limitations: string[];
}

/** Build the report from an incident's journal (and the verify report, when it could be run). */
export function buildRetrospective(
  incident: string,
  events: readonly CaptureEvent[],
  now: string,
  verification?: VerifyReport | { error: string },
): RetrospectiveReport {
  const state = deriveJournalState(events);
  const sitrep = buildSitrep(incident, events, now);
  const planned = new Map<string, { target: string; phase: string }>();
  for (const e of events)
    if (e.type === 'capture.started')
      for (const p of e.plannedSteps) planned.set(p.id, { target: p.target, phase: p.phase });
  const targets = [...new Set([...planned.values()].map((p) => p.target))].sort();
  const spans = new Map<string, { from: string; to: string }>();
  const widen = (key: string, at: string) => {
    const span = spans.get(key);
    if (!span) spans.set(key, { from: at, to: at });
    else {
      if (at < span.from) span.from = at;
      if (at > span.to) span.to = at;
    }
  };
  const changeTarget = new Map<string, string>();
  for (const c of state.changes) {
    const target = planned.get(c.stepId)?.target;
    if (target) changeTarget.set(c.id, target);
  }
  const marks: TimelineMark[] = [];
  let lastRelease: string | undefined;
  for (const e of events) {
    const step = e.stepId ? planned.get(e.stepId) : undefined;
    if (step && ['preserve', 'collect', 'contain'].includes(step.phase))
      if (e.type === 'step.started' || e.type === 'step.done' || e.type === 'step.failed')
        widen(`${step.target}\u0000${step.phase}`, e.at);
    if (e.type === 'release.started') lastRelease = e.at;
    if (e.type === 'change.released' || e.type === 'release.failed') {
      const target = changeTarget.get(e.changeId);
      if (target) {
        widen(`${target}\u0000release`, lastRelease ?? e.at);
        widen(`${target}\u0000release`, e.at);
      }
    }
    if (e.type === 'step.failed')
      marks.push({
        at: e.at,
        kind: 'failure',
        label: `${e.stepId} failed: ${e.message}`,
        ...(step ? { target: step.target } : {}),
      });
    if (e.type === 'capture.started' && (e.case as Partial<Case>).approveContainment && e.resumed)
      marks.push({
        at: e.at,
        kind: 'approval',
        label: 'containment approved (capture re-run with --approve-containment)',
      });
    if (e.type === 'roles.recorded')
      marks.push({
        at: e.at,
        kind: 'roles',
        label: e.takeOver
          ? `IC hand-over to ${e.commander}`
          : e.commander
            ? `Incident Commander: ${e.commander}`
            : `responders joined: ${e.responders.join(', ')}`,
      });
    if (e.type === 'incident.false-alarm')
      marks.push({ at: e.at, kind: 'false-alarm', label: 'declared a false alarm' });
    if (e.type === 'capture.sealed' || e.type === 'release.sealed')
      marks.push({
        at: e.at,
        kind: 'seal',
        label: e.type === 'capture.sealed' ? 'manifest sealed' : 'release record sealed',
      });
  }
  const timeline = foldTimeline(events);
  const ttc = new Map(timeline.containment.map((c) => [c.target, c.timeToContainmentMs]));
  const rows: TargetRow[] = targets.map((target) => ({
    target,
    segments: TIMELINE_SEGMENTS.flatMap((segment) => {
      const span = spans.get(`${target}\u0000${segment}`);
      return span ? [{ segment, ...span }] : [];
    }),
    ...(ttc.has(target) ? { timeToContainmentMs: ttc.get(target)! } : {}),
  }));
  const released = state.released;
  return {
    incident,
    generatedAt: now,
    sitrep,
    ...(events[0] ? { startedAt: events[0].at, endedAt: events.at(-1)!.at } : {}),
    rows,
    marks,
    artifacts: state.artifacts,
    changes: state.changes.map((c) => ({ ...c, ...(released.has(c.id) ? { released: released.get(c.id)! } : {}) })),
    actors: actorsOf(events),
    ...(verification && 'error' in verification
      ? { verificationError: verification.error }
      : verification
        ? {
            verification: {
              ok: verification.ok,
              summary: `${verification.items.filter((i) => i.status === 'ok').length} of ${verification.items.length} checks passed${verification.notChecked ? `, ${verification.notChecked} not checked` : ''}`,
              items: verification.items.map((i) => ({ kind: i.kind, id: i.id, status: i.status, detail: i.detail })),
            },
          }
        : {}),
    limitations: state.limitations,
  };
}

/** Who did what, with which tool: every run's operator and the people the journal names. */
function actorsOf(events: readonly CaptureEvent[]): Actor[] {
  const actors: Actor[] = [];
  const person = (o: JsonObject | undefined) =>
    [o?.osUser && `${String(o.osUser)}@${String(o.host ?? '?')}`, o?.callerArn, o?.assumedRole]
      .filter(Boolean)
      .map(String)
      .join(', ') || 'unknown';
  const tool = (t: JsonObject | undefined) =>
    t ? `${String(t.name ?? 'holdfast')} ${String(t.version ?? '?')}` : undefined;
  let lastTool: string | undefined;
  for (const e of events) {
    if (e.type === 'capture.started') {
      lastTool = tool(e.tool);
      actors.push({
        what: e.resumed ? 'capture (resumed)' : 'capture',
        at: e.at,
        who: person(e.operator),
        ...(lastTool ? { tool: lastTool } : {}),
      });
    } else if (e.type === 'release.started')
      actors.push({ what: 'release', at: e.at, who: 'see the custody log', ...(lastTool ? { tool: lastTool } : {}) });
    else if (e.type === 'roles.recorded')
      actors.push({
        what: e.takeOver ? `IC hand-over to ${e.commander}` : 'roles recorded',
        at: e.at,
        who: person(e.by),
        ...(lastTool ? { tool: lastTool } : {}),
      });
    else if (e.type === 'incident.false-alarm')
      actors.push({ what: 'declared a false alarm', at: e.at, who: person(e.by) });
  }
  const roles = foldRoles(events);
  if (roles.commander) actors.push({ what: 'Incident Commander', at: '', who: roles.commander });
  for (const r of roles.responders) actors.push({ what: 'responder', at: '', who: r });
  return actors;
}

const esc = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const json = (v: Json | undefined) => (v === undefined ? '' : JSON.stringify(v));

/** What release did with a change, in the report's words; `kept` names a change release never undoes. */
function releaseWording(c: RetrospectiveReport['changes'][number], kept: string): string {
  if (c.released) return `${c.released.restored ? 'restored' : 'left as found'} ${c.released.at}`;
  return c.reversible ? 'no' : kept;
}
const locationOf = (a: ArtifactRecord) =>
  Object.entries(a.location)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(' · ');

const SEGMENT_COLOURS: Record<TimelineSegment, string> = {
  preserve: '#2f6f9f',
  collect: '#3f8f5f',
  contain: '#c0762b',
  release: '#7a5ba6',
};
const MARK_COLOURS: Record<TimelineMark['kind'], string> = {
  failure: '#c0392b',
  approval: '#1f7a4d',
  roles: '#555',
  'false-alarm': '#8e44ad',
  seal: '#222',
};

/** The timeline as an inline SVG: one `g.target-bar` per target, bars per segment, marks on the axis. */
export function renderTimelineSvg(r: RetrospectiveReport): string {
  const times = [
    ...r.rows.flatMap((row) => row.segments.flatMap((s) => [s.from, s.to])),
    ...r.marks.map((m) => m.at),
  ].map(Date.parse);
  const t0 = times.length ? Math.min(...times) : 0;
  const t1 = times.length ? Math.max(...times, t0 + 1000) : 1000;
  const labelWidth = 260;
  const plot = 640;
  const rowHeight = 28;
  const top = 34;
  const height = top + r.rows.length * rowHeight + 60;
  const x = (at: string) => labelWidth + ((Date.parse(at) - t0) / (t1 - t0)) * plot;
  const ticks = Array.from({ length: 6 }, (_, i) => t0 + ((t1 - t0) * i) / 5);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${labelWidth + plot + 20} ${height}" width="100%" role="img" aria-label="Timeline of ${esc(r.incident)}">`,
    `<title>Timeline of ${esc(r.incident)}: preserve, collect, contain and release per target</title>`,
  ];
  for (const t of ticks) {
    const tx = labelWidth + ((t - t0) / (t1 - t0)) * plot;
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${top - 6}" x2="${tx.toFixed(1)}" y2="${top + r.rows.length * rowHeight}" class="grid"/>`,
      `<text x="${tx.toFixed(1)}" y="${top - 12}" class="tick">+${formatDuration(t - t0)}</text>`,
    );
  }
  r.rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    out.push(`<g class="target-bar" data-target="${esc(row.target)}">`);
    out.push(`<text x="${labelWidth - 8}" y="${y + 18}" class="label">${esc(short(row.target, 36))}</text>`);
    for (const s of row.segments) {
      const x0 = x(s.from);
      const w = Math.max(3, x(s.to) - x0);
      out.push(
        `<rect x="${x0.toFixed(1)}" y="${y + 6}" width="${w.toFixed(1)}" height="16" rx="3" fill="${SEGMENT_COLOURS[s.segment]}" class="segment ${s.segment}"><title>${esc(`${row.target}: ${s.segment} ${s.from} → ${s.to}`)}</title></rect>`,
      );
    }
    out.push('</g>');
  });
  const axisY = top + r.rows.length * rowHeight + 8;
  out.push(`<line x1="${labelWidth}" y1="${axisY}" x2="${labelWidth + plot}" y2="${axisY}" class="axis"/>`);
  for (const m of r.marks) {
    const mx = x(m.at);
    out.push(
      `<g class="mark ${m.kind}"><path d="M${mx.toFixed(1)} ${axisY + 2} l5 9 h-10 z" fill="${MARK_COLOURS[m.kind]}"/><title>${esc(`${m.at}: ${m.label}`)}</title></g>`,
    );
  }
  const legend = [...TIMELINE_SEGMENTS.map((s) => [s, SEGMENT_COLOURS[s]] as const)];
  legend.forEach(([name, colour], i) => {
    const lx = labelWidth + i * 110;
    out.push(
      `<rect x="${lx}" y="${axisY + 22}" width="12" height="12" rx="2" fill="${colour}"/><text x="${lx + 17}" y="${axisY + 32}" class="legend">${name}</text>`,
    );
  });
  out.push(
    `<path d="M${labelWidth + 440} ${axisY + 22} l6 11 h-12 z" fill="#222"/><text x="${labelWidth + 452}" y="${axisY + 32}" class="legend">seal · approval · roles · failure</text>`,
  );
  out.push('</svg>');
  return out.join('\n');
}

function short(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;margin:0;background:#f4f5f7}
main{max-width:1100px;margin:0 auto;padding:28px 32px 48px;background:#fff;min-height:100vh}
header{border-bottom:3px solid #1d232a;padding-bottom:14px;margin-bottom:18px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #d8dde3;padding-bottom:4px}
.sub{color:#56606b;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:16px 0}
.card{border:1px solid #d8dde3;border-radius:6px;padding:10px 12px}.card b{display:block;font-size:20px}
.card span{color:#56606b;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.ok{color:#1f7a4d}.bad{color:#b03a2e}.warn{color:#9a6700}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e5e8ec;vertical-align:top}
th{background:#f0f2f5;font-weight:600}td.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
svg.timeline{background:#fbfcfd;border:1px solid #e5e8ec;border-radius:6px}
svg .label{font-size:12px;text-anchor:end;fill:#1d232a}svg .tick{font-size:11px;text-anchor:middle;fill:#56606b}
svg .legend{font-size:12px;fill:#1d232a}svg .grid{stroke:#e5e8ec}svg .axis{stroke:#56606b}
ul{margin:6px 0;padding-left:20px}footer{margin-top:32px;color:#56606b;font-size:12px}
@media print{body{background:#fff}main{padding:0}}
`;

/** The report as one self-contained HTML document: inline CSS and SVG, no script, nothing to fetch. */
export function renderRetrospectiveHtml(r: RetrospectiveReport): string {
  const s = r.sitrep;
  const v = r.verification;
  const verdict = v ? (v.ok ? `<b class="ok">passed</b>` : `<b class="bad">FAILED</b>`) : `<b class="warn">not run</b>`;
  const row = (cells: string[]) => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  const mono = (text: string) => `<code>${esc(text)}</code>`;
  const table = (head: string[], rows: string[]) =>
    rows.length
      ? `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
      : '<p class="sub">none</p>';
  const list = (items: string[]) =>
    items.length ? `<ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>` : '<p class="sub">none</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(r.incident)} — retrospective report</title>
<style>${STYLE}</style></head>
<body><main>
<header><h1>${esc(r.incident)} — retrospective report</h1>
<div class="sub">Severity <b>${esc(s.severity)}</b> · status <b>${esc(s.status)}</b> · Incident Commander <b>${esc(s.commander ?? 'not named')}</b> · responders ${esc(s.responders.join(', ') || 'none named')}</div>
<div class="sub">From ${esc(r.startedAt ?? '?')} to ${esc(r.endedAt ?? '?')} · generated ${esc(r.generatedAt)} from the incident's journal</div></header>
<section class="cards">
<div class="card"><span>Time to containment</span><b>${esc(formatDuration(s.timeline.timeToContainmentMs))}</b></div>
<div class="card"><span>Artifacts</span><b>${r.artifacts.length}</b></div>
<div class="card"><span>Changes</span><b>${r.changes.length}</b></div>
<div class="card"><span>Verification</span>${verdict}</div>
</section>
<h2>Timeline</h2>
${renderTimelineSvg(r)}
<h2>Time to containment per target</h2>
${table(
  ['target', 'time to containment', 'phases'],
  r.rows.map((t) =>
    row([
      mono(t.target),
      esc(t.timeToContainmentMs === undefined ? 'not contained' : formatDuration(t.timeToContainmentMs)),
      esc(t.segments.map((g) => g.segment).join(' → ') || 'none'),
    ]),
  ),
)}
<h2>Contained, and who may still reach it</h2>
${list([...s.contained, ...s.released.map((l) => `then released: ${l}`), ...s.forensicAccess.map((c) => `forensic access: ${c}`)])}
<h2>Artifacts (${r.artifacts.length})</h2>
${table(
  ['type', 'id', 'SHA-256', 'location', 'acquired'],
  r.artifacts.map((a) =>
    row([
      esc(a.type),
      mono(a.id),
      a.sha256 ? mono(a.sha256) : '<span class="sub">held by the platform</span>',
      mono(locationOf(a)),
      esc(a.acquiredAt),
    ]),
  ),
)}
<h2>Changes (${r.changes.length})</h2>
${table(
  ['resource', 'attribute', 'before', 'after', 'at', 'released'],
  r.changes.map((c) =>
    row([
      mono(c.resource),
      esc(c.attribute),
      mono(json(c.before)),
      mono(json(c.after)),
      esc(c.at),
      esc(releaseWording(c, 'kept (preservation)')),
    ]),
  ),
)}
<h2>Who acted</h2>
${table(
  ['what', 'when', 'who', 'tool'],
  r.actors.map((a) => row([esc(a.what), esc(a.at), esc(a.who), esc(a.tool ?? '')])),
)}
<h2>Verification</h2>
${
  v
    ? `<p>${verdict}: ${esc(v.summary)}</p>${table(
        ['check', 'id', 'result', 'detail'],
        v.items.map((i) =>
          row([
            esc(i.kind),
            mono(i.id),
            `<span class="${i.status === 'ok' ? 'ok' : i.status === 'failed' ? 'bad' : 'warn'}">${esc(i.status)}</span>`,
            esc(i.detail),
          ]),
        ),
      )}`
    : `<p class="warn">${esc(r.verificationError ?? 'verification was not run')}</p>`
}
<h2>Limitations</h2>
${list(r.limitations)}
<footer>Every figure above is folded from the hash-chained journal; <code>evidence verify --incident ${esc(r.incident)}</code> re-checks the evidence itself.</footer>
</main></body></html>
`;
}

/** The report in Markdown (tickets, wikis): the same sections, the timeline as a table. */
export function renderRetrospectiveMarkdown(r: RetrospectiveReport): string {
  const s = r.sitrep;
  const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const table = (head: string[], rows: string[][]) =>
    rows.length
      ? [
          `| ${head.join(' | ')} |`,
          `|${head.map(() => '---').join('|')}|`,
          ...rows.map((r2) => `| ${r2.map(cell).join(' | ')} |`),
        ].join('\n')
      : '_none_';
  const list = (items: string[]) => (items.length ? items.map((i) => `- ${i}`).join('\n') : '_none_');
  const v = r.verification;
  return [
    `# ${r.incident} — retrospective report`,
    '',
    `**Severity:** ${s.severity} · **Status:** ${s.status} · **Incident Commander:** ${s.commander ?? 'not named'} · **Responders:** ${s.responders.join(', ') || 'none named'}`,
    `**Time to containment:** ${formatDuration(s.timeline.timeToContainmentMs)} · **Artifacts:** ${r.artifacts.length} · **Changes:** ${r.changes.length} · **Verification:** ${v ? (v.ok ? 'passed' : 'FAILED') : 'not run'}`,
    '',
    '## Timeline',
    table(
      ['target', ...TIMELINE_SEGMENTS, 'time to containment'],
      r.rows.map((t) => [
        `\`${t.target}\``,
        ...TIMELINE_SEGMENTS.map((seg) => {
          const g = t.segments.find((x) => x.segment === seg);
          return g ? `${g.from} → ${g.to}` : '';
        }),
        t.timeToContainmentMs === undefined ? 'not contained' : formatDuration(t.timeToContainmentMs),
      ]),
    ),
    '',
    list(r.marks.map((m) => `${m.at} — ${m.label}`)),
    '',
    '## Artifacts',
    table(
      ['type', 'id', 'SHA-256', 'location', 'acquired'],
      r.artifacts.map((a) => [
        a.type,
        `\`${a.id}\``,
        a.sha256 ? `\`${a.sha256}\`` : 'held by the platform',
        locationOf(a),
        a.acquiredAt,
      ]),
    ),
    '',
    '## Changes',
    table(
      ['resource', 'attribute', 'before', 'after', 'at', 'released'],
      r.changes.map((c) => [
        `\`${c.resource}\``,
        c.attribute,
        `\`${json(c.before)}\``,
        `\`${json(c.after)}\``,
        c.at,
        releaseWording(c, 'kept'),
      ]),
    ),
    '',
    '## Who acted',
    table(
      ['what', 'when', 'who', 'tool'],
      r.actors.map((a) => [a.what, a.at, a.who, a.tool ?? '']),
    ),
    '',
    '## Verification',
    v ? `${v.ok ? 'Passed' : 'FAILED'}: ${v.summary}` : (r.verificationError ?? 'not run'),
    '',
    ...(v
      ? [
          table(
            ['check', 'id', 'result', 'detail'],
            v.items.map((i) => [i.kind, `\`${i.id}\``, i.status, i.detail]),
          ),
          '',
        ]
      : []),
    '## Limitations',
    list(r.limitations),
    '',
  ].join('\n');
}
