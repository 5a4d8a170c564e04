/**
 * Append-only, hash-chained NDJSON journal: one line per event, each carrying the SHA-256 of the
 * line before it, written and fsynced before anyone is told. The journal is the capture's state:
 * it keeps a running fold of its events (`fold`), so nobody re-reads it to look something up.
 */
import {
  closeSync,
  existsSync,
  fsync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { IntegrityError } from '../core/errors.js';
import type { CaptureEvent, CaptureEventBody } from '../core/events.js';
import { JournalFold } from './journal-state.js';

/** `prev` of the first line. */
export const GENESIS_HASH = '0'.repeat(64);

export type JournalLine = CaptureEvent & { prev: string };

export interface ChainCheck {
  ok: boolean;
  events: JournalLine[];
  /** SHA-256 of the last complete line (GENESIS_HASH when empty). */
  head: string;
  problems: string[];
}

/** Check a journal's text: every line parses, seq counts up from 1, each `prev` is the hash of the line before. */
export function checkJournalChain(text: string): ChainCheck {
  const problems: string[] = [];
  const events: JournalLine[] = [];
  let head = GENESIS_HASH;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    let parsed: JournalLine;
    try {
      parsed = JSON.parse(line) as JournalLine;
    } catch {
      problems.push(`line ${lineNo}: not JSON`);
      head = sha256Hex(line);
      return;
    }
    if (parsed.prev !== head) problems.push(`line ${lineNo}: prev hash does not match line ${lineNo - 1}`);
    if (parsed.seq !== lineNo) problems.push(`line ${lineNo}: seq ${parsed.seq}, expected ${lineNo}`);
    if (canonicalJson(parsed) !== line) problems.push(`line ${lineNo}: not in canonical form (edited?)`);
    events.push(parsed);
    head = sha256Hex(line);
  });
  return { ok: problems.length === 0, events, head, problems };
}

/** The events of a journal file, for reports (sitrep, status); none when there is no file. */
export function readJournalEvents(path: string | undefined): JournalLine[] {
  return path && existsSync(path) ? checkJournalChain(readFileSync(path, 'utf8')).events : [];
}

/** A journal file (or, for dry runs, memory only). */
export class Journal {
  #fd: number | undefined;
  #events: JournalLine[];
  #head: string;
  #text: string[];
  /** The state folded from every line so far, kept as lines are appended. */
  readonly fold = new JournalFold();
  /** Lines known to be on disk (fsynced). */
  #synced: number;
  #syncing = false;
  #closeAfterSync = false;
  #waiters: { upTo: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  private constructor(
    readonly path: string | undefined,
    readonly incident: string,
    check: ChainCheck,
    text: string[],
  ) {
    this.#events = check.events;
    this.#head = check.head;
    this.#text = text;
    this.#synced = check.events.length;
    for (const e of check.events) this.fold.apply(e);
    if (path) this.#fd = openSync(path, 'a');
  }

  /** Open (or create) the journal at `path`; refuses a broken chain. A torn last line from a crash is dropped. */
  static open(path: string, incident: string): Journal {
    mkdirSync(dirname(path), { recursive: true });
    let text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (text && !text.endsWith('\n')) {
      // A crash between write and newline leaves a torn line that was never acknowledged.
      const keep = text.lastIndexOf('\n') + 1;
      truncateSync(path, Buffer.byteLength(text.slice(0, keep)));
      text = text.slice(0, keep);
    }
    const check = checkJournalChain(text);
    if (!check.ok) {
      throw new IntegrityError(`journal ${path} is broken; refusing to continue it`, { details: check.problems });
    }
    return new Journal(path, incident, check, text ? text.slice(0, -1).split('\n') : []);
  }

  /** A journal that lives only in memory (dry runs write nothing). */
  static inMemory(incident: string): Journal {
    return new Journal(undefined, incident, { ok: true, events: [], head: GENESIS_HASH, problems: [] }, []);
  }

  get events(): readonly JournalLine[] {
    return this.#events;
  }

  get head(): string {
    return this.#head;
  }

  /** The journal text as stored (NDJSON, trailing newline). */
  text(): string {
    return this.#text.length ? `${this.#text.join('\n')}\n` : '';
  }

  /** Append one event; it is on disk before this returns (one fsync per line: release, dry runs). */
  append(body: CaptureEventBody, at: Date = new Date()): JournalLine {
    const line = this.write(body, at);
    if (this.#fd !== undefined) {
      fsyncSync(this.#fd);
      this.#synced = this.#events.length;
    }
    return line;
  }

  /**
   * Append one event without waiting for the disk: the line is written (in order, chained) and
   * folded, but nobody may be told of it, nor act on it, before `durable()` resolves.
   */
  write(body: CaptureEventBody, at: Date = new Date()): JournalLine {
    const line = {
      ...body,
      seq: this.#events.length + 1,
      at: at.toISOString(),
      incident: this.incident,
      prev: this.#head,
    } as JournalLine;
    const text = canonicalJson(line);
    if (this.#fd !== undefined) writeSync(this.#fd, `${text}\n`);
    this.#events.push(line);
    this.#text.push(text);
    this.#head = sha256Hex(text);
    this.fold.apply(line);
    return line;
  }

  /**
   * Resolves once every line written so far is on disk. Group commit: one fsync (off the event
   * loop) covers every line written before it started, so a thousand concurrent steps wait for a
   * few fsyncs, not a thousand; a waiter is never acknowledged before its own line is durable.
   */
  durable(): Promise<void> {
    const upTo = this.#events.length;
    if (this.#fd === undefined || this.#synced >= upTo) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ upTo, resolve, reject });
      this.#sync();
    });
  }

  #sync(): void {
    if (this.#syncing || this.#fd === undefined) return;
    this.#syncing = true;
    const upTo = this.#events.length;
    fsync(this.#fd, (error) => {
      this.#syncing = false;
      if (!error) this.#synced = Math.max(this.#synced, upTo);
      const waiting = this.#waiters;
      this.#waiters = [];
      for (const w of waiting) {
        if (w.upTo <= this.#synced) w.resolve();
        else if (error) w.reject(error);
        else this.#waiters.push(w);
      }
      if (this.#closeAfterSync) return this.#closeNow();
      if (this.#waiters.length) this.#sync();
    });
  }

  close(): void {
    if (this.#fd === undefined) return;
    // Whatever was written reaches the disk before the file is let go.
    fsyncSync(this.#fd);
    this.#synced = this.#events.length;
    for (const w of this.#waiters.splice(0)) w.resolve();
    // An fsync still running holds the descriptor: closing it now could hand its number to another file.
    if (this.#syncing) this.#closeAfterSync = true;
    else this.#closeNow();
  }

  #closeNow(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
