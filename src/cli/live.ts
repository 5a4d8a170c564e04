/**
 * What a responder sees while a capture runs. On a terminal: one live line per running step (state,
 * bytes and rate, percent, elapsed) and what is being waited on, drawn by log-update, with finished
 * lines scrolling above. Off a terminal (CI, bots, --json): plain lines, no escape codes.
 */
import { createLogUpdate } from 'log-update';
import type { CaptureEvent, ProgressEvent } from '../core/events.js';
import { describeEvent, type Output } from './output.js';

/** How often the live lines are redrawn (elapsed time ticks even when nothing else changes). */
export const REDRAW_INTERVAL_MS = 200;
/** Off a terminal, a running stream's byte count is printed at most this often. */
export const PLAIN_PROGRESS_INTERVAL_MS = 10_000;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Display {
  /** A line that stays (scrolls above the live lines on a terminal). */
  say(line: string): void;
  /** A journaled capture event. */
  event(e: CaptureEvent): void;
  /** A live progress report. */
  progress(p: ProgressEvent): void;
  /** Stop redrawing and leave the terminal clean; safe to call twice. */
  stop(): void;
}

interface Running {
  title: string;
  phase: string;
  startedAt: number;
  attempt: number;
  bytes?: number;
  bytesPerSecond?: number;
  percent?: number;
  waitingOn?: string;
  note?: string;
}

/** Live lines when stderr is a terminal and no machine output was asked for; plain lines otherwise. */
export function shouldDrawLive(out: Output, env: NodeJS.ProcessEnv = process.env): boolean {
  // A terminal that reports no size (rows 0) would get no live lines at all from log-update.
  return Boolean(process.stderr.isTTY) && process.stderr.rows > 0 && !out.json && !env.CI && env.TERM !== 'dumb';
}

/** The display for one command run. */
export function createDisplay(out: Output, live = shouldDrawLive(out)): Display {
  return live ? liveDisplay(out) : plainDisplay(out);
}

/** Bytes for people: 1023 B, 12.3 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Elapsed time as m:ss (h:mm:ss past an hour). */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** What a running step is doing, in one phrase: bytes and rate, percent, what it waits on. */
export function describeRunning(
  r: Pick<Running, 'bytes' | 'bytesPerSecond' | 'percent' | 'waitingOn' | 'note'>,
): string {
  const parts: string[] = [];
  if (r.bytes !== undefined)
    parts.push(`${formatBytes(r.bytes)}${r.bytesPerSecond ? ` at ${formatBytes(r.bytesPerSecond)}/s` : ''}`);
  if (r.percent !== undefined) parts.push(`${r.percent}%`);
  if (r.waitingOn) parts.push(`waiting on ${r.waitingOn}`);
  if (r.note) parts.push(r.note);
  return parts.join(' · ');
}

function liveDisplay(out: Output): Display {
  const draw = createLogUpdate(process.stderr);
  const running = new Map<string, Running>();
  const started = Date.now();
  let wait: { what: string; since: number } | undefined;
  let done = 0;
  let frame = 0;
  let stopped = false;

  const render = () => {
    if (stopped) return;
    frame = (frame + 1) % SPINNER.length;
    const width = Math.max(40, (process.stderr.columns || 100) - 1);
    const fit = (line: string) => (line.length > width ? `${line.slice(0, width - 1)}…` : line);
    const now = Date.now();
    const lines = [...running.values()].map((r) => {
      const doing = describeRunning(r);
      return fit(
        `  ${SPINNER[frame]} [${r.phase}] ${r.title}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}${doing ? ` — ${doing}` : ''}  ${formatElapsed(now - r.startedAt)}`,
      );
    });
    if (wait) lines.push(fit(`  ${SPINNER[frame]} waiting on ${wait.what}  ${formatElapsed(now - wait.since)}`));
    lines.push(fit(`  elapsed ${formatElapsed(now - started)} · ${running.size} running · ${done} done`));
    draw(lines.join('\n'));
  };
  const timer = setInterval(render, REDRAW_INTERVAL_MS);
  timer.unref();

  const say = (line: string) => {
    if (stopped) out.say(line);
    else draw.persist(`${line}\n`);
  };
  return {
    say,
    event(e) {
      if (e.type === 'step.started') {
        const earlier = running.get(e.stepId);
        running.set(e.stepId, {
          title: e.title,
          phase: e.phase,
          startedAt: earlier?.startedAt ?? Date.now(),
          attempt: e.attempt,
        });
        return;
      }
      const r = e.stepId ? running.get(e.stepId) : undefined;
      if (e.type === 'step.progress' && r) {
        // The journaled message becomes the step's live note instead of a new line per poll.
        r.note = e.message;
        return;
      }
      if (e.type === 'step.retry' && r) r.note = `retrying in ${formatElapsed(e.delayMs)} after: ${e.message}`;
      if ((e.type === 'step.done' || e.type === 'step.failed' || e.type === 'step.skipped') && e.stepId) {
        if (running.delete(e.stepId)) done++;
      }
      if (e.type === 'capture.started' || e.type === 'capture.finished') wait = undefined;
      const line = describeEvent(e);
      if (line) say(line);
      render();
    },
    progress(p) {
      if (p.warning) say(`note: ${p.warning}`);
      const r = p.stepId ? running.get(p.stepId) : undefined;
      if (r) {
        if (p.bytes !== undefined) r.bytes = p.bytes;
        if (p.bytesPerSecond !== undefined) r.bytesPerSecond = p.bytesPerSecond;
        if (p.percent !== undefined) r.percent = p.percent;
        if (p.waitingOn !== undefined && !p.done) r.waitingOn = p.waitingOn;
        else if (p.done) delete r.waitingOn;
        return;
      }
      if (!p.stepId) {
        if (p.waitingOn && !p.done)
          wait = { what: p.waitingOn, since: wait?.what === p.waitingOn ? wait.since : Date.now() };
        else if (p.done) wait = undefined;
        render();
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      draw.clear();
      draw.done();
    },
  };
}

function plainDisplay(out: Output): Display {
  const lastBytesLine = new Map<string, number>();
  let lastWait = '';
  return {
    say: (line) => out.say(line),
    event(e) {
      const line = describeEvent(e);
      if (line) out.say(line);
    },
    progress(p) {
      if (p.warning) out.say(`note: ${p.warning}`);
      if (p.done) return;
      const key = p.stepId ?? '';
      if (p.bytes !== undefined && p.stepId) {
        // A long dump still shows signs of life in a CI log, without a line per chunk.
        const last = lastBytesLine.get(p.stepId) ?? 0;
        if (Date.now() - last < PLAIN_PROGRESS_INTERVAL_MS) return;
        lastBytesLine.set(p.stepId, Date.now());
        out.say(`    ${p.stepId}: ${describeRunning(p)}`);
        return;
      }
      if (p.waitingOn && `${key} ${p.waitingOn}` !== lastWait) {
        lastWait = `${key} ${p.waitingOn}`;
        out.say(
          `  … ${p.stepId ? `${p.stepId}: ` : ''}waiting on ${p.waitingOn}${p.percent !== undefined ? ` (${p.percent}%)` : ''}`,
        );
      }
    },
    stop() {},
  };
}
