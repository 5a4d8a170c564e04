/**
 * The local state directory must hold the journal durably before anything remote is changed: a
 * missing, read-only or full directory is named here, up front, not discovered after an interface
 * has already been swapped.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fsFailureReason, StateWriteError } from '../core/errors.js';
import { STATE_DIR_MODE, STATE_FILE_MODE } from '../evidence/journal.js';

/** Bytes written and fsynced as a probe: a directory that cannot take this cannot take a capture's journal. */
export const STATE_PROBE_BYTES = 16 * 1024;

/** Create `dir` (0700) if needed and prove a write + fsync works there; throws StateWriteError naming it. */
export function assertStateDirUsable(dir: string, what = 'state directory (`stateDir`)'): void {
  const fail = (doing: string, error: unknown): never => {
    throw new StateWriteError(
      `the ${what} ${dir} cannot be used: ${doing} failed: ${fsFailureReason(error)}; nothing was changed — free space, make it writable or pick another (\`stateDir\`), then run again`,
      dir,
      { cause: error },
    );
  };
  try {
    mkdirSync(dir, { recursive: true, mode: STATE_DIR_MODE });
  } catch (error) {
    // A recursive mkdir can report ENOENT for a read-only parent: ask the nearest existing one why.
    fail('creating it', whyNotWritable(dir) ?? error);
  }
  const probe = join(dir, `.probe-${process.pid}-${Date.now()}`);
  let fd: number | undefined;
  try {
    fd = openSync(probe, 'wx', STATE_FILE_MODE);
    const buf = Buffer.alloc(STATE_PROBE_BYTES, 0x20);
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (error) {
    fail('a test write', error);
  } finally {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(probe); // our own probe file, not evidence
    } catch {
      // never created
    }
  }
}

/** The error that stops writing in the nearest existing ancestor of `dir`, if any. */
function whyNotWritable(dir: string): unknown {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    accessSync(at, constants.W_OK);
    return undefined;
  } catch (error) {
    return error;
  }
}
