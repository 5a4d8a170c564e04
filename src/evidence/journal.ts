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
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { fsFailureReason, IntegrityError, InternalError, StateWriteError } from '../core/errors.js';
import type { CaptureEvent, CaptureEventBody } from '../core/events.js';
import { JournalFold } from './journal-state.js';
import { crashAtEvent } from '../core/test-seam.js';

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

/** State files (journal, lock) are readable by their owner only: they hold what release needs. */
export const STATE_FILE_MODE = 0o600;
export const STATE_DIR_MODE = 0o700;

/** A crash's torn last line, set aside on open: never used, always reported. */
export interface TornTail {
  bytes: number;
  /** Where the torn bytes were kept (beside the journal). */
  keptAt: string;
}

/** Write all of `buf` (writeSync may write fewer bytes than asked without throwing). */
export function writeFully(
  fd: number,
  buf: Buffer,
  write: (fd: number, buf: Buffer, offset: number, length: number) => number = writeSync,
): void {
  for (let off = 0; off < buf.length;) {
    const n = write(fd, buf, off, buf.length - off);
    if (n <= 0) throw Object.assign(new Error(`short write: ${off} of ${buf.length} bytes`), { code: 'EIO' });
    off += n;
  }
}

/** A journal write failure, naming the path and the reason. */
export function stateWriteError(path: string, error: unknown): StateWriteError {
  if (error instanceof StateWriteError) return error;
  return new StateWriteError(
    `the journal ${path} cannot be written: ${fsFailureReason(error)}; nothing more is changed without its record — free space or fix the state directory (\`stateDir\`), then run the same command again`,
    path,
    { cause: error },
  );
}

/**
 * A journal file (or, for dry runs, memory only). Write-ahead: a line is completely written (short
 * writes continued) and fsynced before anyone acts on it. If a write or fsync fails, the journal
 * refuses every later line and every waiter (so no step goes on to make a change whose record is
 * not on disk), and the file is cut back to its last whole line. Nothing is accepted after close.
 */
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
  /** Bytes of whole lines written. */
  #size: number;
  #closed = false;
  #failure: StateWriteError | undefined;
  readonly #crashAt: number | undefined;
  /** A torn last line found on open (a crash mid-write), set aside and not used. */
  readonly tornTail: TornTail | undefined;

  private constructor(
    readonly path: string | undefined,
    readonly incident: string,
    check: ChainCheck,
    text: string[],
    torn?: TornTail,
  ) {
    this.#events = check.events;
    this.#head = check.head;
    this.#text = text;
    this.#synced = check.events.length;
    this.#size = Buffer.byteLength(text.length ? `${text.join('\n')}\n` : '');
    this.tornTail = torn;
    this.#crashAt = crashAtEvent();
    for (const e of check.events) this.fold.apply(e);
    if (path) {
      try {
        this.#fd = openSync(path, 'a', STATE_FILE_MODE);
      } catch (error) {
        throw stateWriteError(path, error);
      }
    }
  }

  /**
   * Open (or create) the journal at `path`; refuses a broken chain. A torn last line from a crash
   * (never acknowledged: nobody acted on it) is moved aside to `<path>.torn-<time>` and reported
   * through `tornTail`, never silently used.
   */
  static open(path: string, incident: string): Journal {
    let text: string;
    let torn: TornTail | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: STATE_DIR_MODE });
      text = existsSync(path) ? readFileSync(path, 'utf8') : '';
      if (text && !text.endsWith('\n')) {
        const keep = text.lastIndexOf('\n') + 1;
        const tail = text.slice(keep);
        const keptAt = `${path}.torn-${new Date().toISOString().replace(/[-:.]/g, '')}`;
        writeFileSync(keptAt, tail, { mode: STATE_FILE_MODE, flag: 'wx' });
        truncateSync(path, Buffer.byteLength(text.slice(0, keep)));
        text = text.slice(0, keep);
        torn = { bytes: Buffer.byteLength(tail), keptAt };
      }
    } catch (error) {
      throw stateWriteError(path, error);
    }
    const check = checkJournalChain(text);
    if (!check.ok) {
      throw new IntegrityError(`journal ${path} is broken; refusing to continue it`, { details: check.problems });
    }
    return new Journal(path, incident, check, text ? text.slice(0, -1).split('\n') : [], torn);
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

  /** The write failure that stopped this journal, if one did. */
  get failure(): StateWriteError | undefined {
    return this.#failure;
  }

  /** The journal text as stored (NDJSON, trailing newline). */
  text(): string {
    return this.#text.length ? `${this.#text.join('\n')}\n` : '';
  }

  /** Append one event; it is on disk before this returns (one fsync per line: release, dry runs). */
  append(body: CaptureEventBody, at: Date = new Date()): JournalLine {
    const line = this.write(body, at);
    if (this.#fd !== undefined && this.#synced < this.#events.length) {
      try {
        fsyncSync(this.#fd);
      } catch (error) {
        throw this.#fail(error);
      }
      this.#synced = this.#events.length;
    }
    return line;
  }

  /**
   * Append one event without waiting for the disk: the line is written whole (in order, chained)
   * and folded, but nobody may be told of it, nor act on it, before `durable()` resolves. Throws
   * StateWriteError when the line cannot be written (and for every later line), InternalError after close.
   */
  write(body: CaptureEventBody, at: Date = new Date()): JournalLine {
    if (this.#closed)
      throw new InternalError(`journal ${this.path ?? '(memory)'} is closed; nothing more can be recorded`);
    if (this.#failure) throw this.#failure;
    const line: JournalLine = {
      ...body,
      seq: this.#events.length + 1,
      at: at.toISOString(),
      incident: this.incident,
      prev: this.#head,
    };
    const text = canonicalJson(line);
    if (this.#fd !== undefined) {
      const buf = Buffer.from(`${text}\n`, 'utf8');
      try {
        writeFully(this.#fd, buf);
      } catch (error) {
        throw this.#fail(error);
      }
      this.#size += buf.length;
    }
    this.#events.push(line);
    this.#text.push(text);
    this.#head = sha256Hex(text);
    this.fold.apply(line);
    if (this.#crashAt === line.seq && this.#fd !== undefined) {
      // The test hook: line k whole on disk, nothing done after it.
      fsyncSync(this.#fd);
      process.kill(process.pid, 'SIGKILL');
    }
    return line;
  }

  /** Stop taking lines: cut the file back to its whole lines and remember why, for every later caller. */
  #fail(error: unknown): StateWriteError {
    this.#failure ??= stateWriteError(this.path!, error);
    try {
      if (this.#fd !== undefined) ftruncateSync(this.#fd, this.#size);
    } catch {
      // the next open sets a torn line aside instead
    }
    for (const w of this.#waiters.splice(0)) w.reject(this.#failure);
    return this.#failure;
  }

  /**
   * Resolves once every line written so far is on disk. Group commit: one fsync (off the event
   * loop) covers every line written before it started, so a thousand concurrent steps wait for a
   * few fsyncs, not a thousand; a waiter is never acknowledged before its own line is durable.
   * Rejects with the StateWriteError once the journal cannot be written.
   */
  durable(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
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
      if (error) this.#fail(error);
      else this.#synced = Math.max(this.#synced, upTo);
      const waiting = this.#waiters;
      this.#waiters = [];
      for (const w of waiting) {
        if (w.upTo <= this.#synced) w.resolve();
        else if (this.#failure) w.reject(this.#failure);
        else this.#waiters.push(w);
      }
      if (this.#closeAfterSync) return this.#closeNow();
      if (this.#waiters.length) this.#sync();
    });
  }

  /** Close: whatever was written reaches the disk first; never throws (a failure is kept in `failure`). */
  close(): void {
    this.#closed = true;
    if (this.#fd === undefined) return;
    if (!this.#failure) {
      try {
        fsyncSync(this.#fd);
        this.#synced = this.#events.length;
      } catch (error) {
        this.#fail(error);
      }
    }
    for (const w of this.#waiters.splice(0)) {
      if (w.upTo <= this.#synced) w.resolve();
      else w.reject(this.#failure ?? new InternalError('journal closed'));
    }
    // An fsync still running holds the descriptor: closing it now could hand its number to another file.
    if (this.#syncing) this.#closeAfterSync = true;
    else this.#closeNow();
  }

  #closeNow(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
