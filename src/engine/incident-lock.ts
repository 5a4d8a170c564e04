/**
 * One capture or release of an incident at a time on a machine: two writers would fork the
 * journal's hash chain. A lock left by a process that died is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { BadInputError } from '../core/errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock beside the journal; returns the function that releases it. */
export function lockIncident(journalPath: string, incident: string): () => void {
  const path = `${journalPath}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          // Our own lock file, not evidence.
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (pid && pid !== process.pid && alive(pid)) {
        throw new BadInputError(
          `bad input: --incident ${incident} is being captured or released right now by process ${pid} on this machine; wait for it or stop it, then run again`,
        );
      }
      unlinkSync(path); // a crashed run's lock: the journal itself is intact (torn lines are dropped)
    }
  }
  throw new BadInputError(`bad input: --incident ${incident}: could not take the lock ${path}`);
}
