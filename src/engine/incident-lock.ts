/**
 * One capture or release of an incident at a time: two writers would fork the journal's hash chain.
 * The holder (pid, process start time, host) is written to a private file first and then linked
 * into place, so the lock never exists empty. A lock is stale only when its holder is provably gone
 * on this host: no such pid, or a pid reused by a process that started at another time.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { BadInputError, StateWriteError, fsFailureReason } from '../core/errors.js';
import { STATE_DIR_MODE, STATE_FILE_MODE } from '../evidence/journal.js';

/**
 * Another run holds the incident right now (bad input, exit 2, like any refused request): a daemon
 * tells it from other bad input by its class and tries again later.
 */
export class IncidentBusyError extends BadInputError {}

/** Who holds a lock. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Process start time as the kernel reports it (Linux: clock ticks since boot), when known. */
  startTime?: string;
}

/** The start time of a process (Linux /proc), or undefined where it cannot be read. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) may contain spaces, so count after its ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the holder is provably gone (only judged for this host). */
export function holderIsGone(holder: LockHolder, host = hostname()): boolean {
  if (holder.host !== host) return false;
  if (!alive(holder.pid)) return true;
  const now = processStartTime(holder.pid);
  return Boolean(holder.startTime && now && now !== holder.startTime);
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who, if anyone, is running the incident now, read from its lock without taking it: `running`
 * while the holder lives (or runs on another host, which cannot be judged from here), `abandoned`
 * when the holder is provably gone (killed, crashed: the run was interrupted), `free` with no lock.
 */
export type LockState =
  { state: 'free' } | { state: 'running'; holder: LockHolder } | { state: 'abandoned'; holder: LockHolder };

/** The state of the incident lock beside `journalPath` (see LockState). */
export function inspectLock(journalPath: string): LockState {
  const path = `${journalPath}.lock`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { state: 'free' };
  }
  // An older holdfast's lock holds a bare pid of this host.
  const holder = readHolder(path) ?? { pid: Number(text.trim()) || 0, host: hostname() };
  return holder.pid && !holderIsGone(holder) ? { state: 'running', holder } : { state: 'abandoned', holder };
}

/** Take the lock beside the journal; returns the function that releases it. */
export function lockIncident(journalPath: string, incident: string): () => void {
  const path = `${journalPath}.lock`;
  const me: LockHolder = { pid: process.pid, host: hostname() };
  const start = processStartTime(process.pid);
  if (start) me.startTime = start;
  const temp = `${path}.${process.pid}.${Date.now()}`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: STATE_DIR_MODE });
    const fd = openSync(temp, 'wx', STATE_FILE_MODE);
    try {
      writeSync(fd, JSON.stringify(me));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new StateWriteError(
      `the lock ${path} cannot be written: ${fsFailureReason(error)}; nothing was changed — free space or fix the state directory (\`stateDir\`), then run again`,
      path,
      { cause: error },
    );
  }
  const dropTemp = () => {
    try {
      unlinkSync(temp); // our own holder file
    } catch {
      // gone already
    }
  };
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(temp, path); // atomic: fails if a lock exists, never leaves it half-written
        return () => {
          // Release only a lock that is still ours.
          if (readHolder(path)?.pid === me.pid && readHolder(path)?.startTime === me.startTime) {
            try {
              unlinkSync(path);
            } catch {
              // already gone
            }
          }
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readHolder(path);
      if (holder && !holderIsGone(holder)) {
        throw new IncidentBusyError({
          field: 'incident',
          message: `${incident} is being captured or released right now by process ${holder.pid} on ${holder.host}; wait for it or stop it, then run again (a lock from another host is never taken over: remove ${path} by hand only if that run is gone)`,
          continues: true,
        });
      }
      if (!holder) {
        // Unreadable holder: an older holdfast's bare pid, or damage. Judge a bare pid on this host.
        const pid = Number(readFileSync(path, 'utf8').trim());
        if (pid && pid !== process.pid && alive(pid))
          throw new IncidentBusyError({
            field: 'incident',
            message: `${incident} is being captured or released right now by process ${pid} on this machine; wait for it or stop it, then run again`,
            continues: true,
          });
      }
      // Move the stale lock aside rather than unlink: only one taker wins the rename, and what it moved is checked.
      const aside = `${path}.stale.${process.pid}.${Date.now()}`;
      try {
        renameSync(path, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = readHolder(aside);
      if (holder && moved && (moved.pid !== holder.pid || moved.startTime !== holder.startTime)) {
        // We moved a fresh lock another process took meanwhile: put it back and report it busy.
        try {
          linkSync(aside, path);
        } catch {
          // it is theirs to sort out
        }
        unlinkSync(aside);
        throw new IncidentBusyError({
          field: 'incident',
          message: `${incident} was just locked by process ${moved.pid}; wait for it`,
          continues: true,
        });
      }
      unlinkSync(aside);
    }
  } finally {
    dropTemp();
  }
  throw new BadInputError({
    field: 'incident',
    message: `${incident}: could not take the lock ${path}`,
    continues: true,
  });
}
