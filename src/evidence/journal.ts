/**
 * Append-only, hash-chained NDJSON journal: one line per event, each carrying the SHA-256 of the
 * line before it, written and fsynced before anyone is told. The journal is the capture's state.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { IntegrityError } from '../core/errors.js';
import type { CaptureEvent, CaptureEventBody } from '../core/events.js';

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

  private constructor(
    readonly path: string | undefined,
    readonly incident: string,
    check: ChainCheck,
    text: string[],
  ) {
    this.#events = check.events;
    this.#head = check.head;
    this.#text = text;
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

  /** Append one event; it is on disk before this returns. */
  append(body: CaptureEventBody, at: Date = new Date()): JournalLine {
    const line = {
      ...body,
      seq: this.#events.length + 1,
      at: at.toISOString(),
      incident: this.incident,
      prev: this.#head,
    } as JournalLine;
    const text = canonicalJson(line);
    if (this.#fd !== undefined) {
      writeSync(this.#fd, `${text}\n`);
      fsyncSync(this.#fd);
    }
    this.#events.push(line);
    this.#text.push(text);
    this.#head = sha256Hex(text);
    return line;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
