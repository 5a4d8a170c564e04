/**
 * The one way a run (capture or release) opens an incident's local state: the state directory is
 * proved usable, the incident is locked, a journal missing here is continued from the store's newest
 * copy, and the journal is opened — in that order, so nothing is written before the lock is held,
 * and the lock is held until `close`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BadInputError } from '../core/errors.js';
import type { CaptureEvent } from '../core/events.js';
import type { Case, EvidenceStore, StoreSpec } from '../core/types.js';
import { Journal, STATE_DIR_MODE, STATE_FILE_MODE } from '../evidence/journal.js';
import { readJournalFromStore } from '../evidence/store-journal.js';
import { describeStoreSpec } from '../evidence/store-keys.js';
import { lockIncident } from './incident-lock.js';
import { recordIncidentStore } from './incident-store.js';
import { assertStateDirUsable } from './state-dir-check.js';
import { journalPath, resolveStateDir } from './state-dir.js';

interface OpenCommon {
  incident: string;
  /** As given by the caller (resolved like every command: option, env, legacy folder, XDG). */
  stateDir?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Where a journal missing on this machine is continued from. */
  store?: EvidenceStore | undefined;
}

/**
 * `capture`: a new incident starts an empty journal; the case's store must be the one the journal
 * names, and is recorded beside it. `release`: the journal must exist, here or in `store`.
 */
export type OpenIncidentOptions = OpenCommon & ({ mode: 'capture'; kase: Case } | { mode: 'release' });

/** An open incident: its journal, held under the incident lock until `close`. */
export interface OpenIncident {
  journal: Journal;
  /** The local journal file. */
  path: string;
  /** The state directory, absolute. */
  stateDir: string;
  /** Close the journal, then release the lock (in that order: no line is written unlocked). */
  close(): void;
}

/** Open an incident's journal under its lock (see the module comment for the order). */
export async function openIncident(options: OpenIncidentOptions): Promise<OpenIncident> {
  const { incident, store } = options;
  const stateDir = resolveStateDir(options.stateDir, options.env ?? process.env);
  const path = journalPath(stateDir, incident);
  // Read before anything is written here: a release of an incident nobody journaled leaves no trace.
  const copy = !existsSync(path) && store ? await readJournalFromStore(store, incident) : '';
  if (options.mode === 'release' && !existsSync(path) && !copy)
    throw new BadInputError({
      field: 'incident',
      message: `${incident}: no journal found locally or in the store`,
      continues: true,
    });
  // Before any remote change: a state directory that cannot hold the journal is named now.
  assertStateDirUsable(dirname(path));
  const unlock = lockIncident(path, incident);
  try {
    // Under the lock: another run may have written the journal here since it was looked for.
    if (copy && !existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true, mode: STATE_DIR_MODE });
      writeFileSync(path, copy, { flag: 'wx', mode: STATE_FILE_MODE });
    }
    const journal = Journal.open(path, incident);
    if (options.mode === 'capture') {
      try {
        assertSameStore(options.kase, incident, journal.events, path);
        // status, verify and release find the evidence from here without --store.
        recordIncidentStore(stateDir, incident, options.kase.store, options.kase.region);
      } catch (error) {
        journal.close();
        throw error;
      }
    }
    return {
      journal,
      path,
      stateDir,
      close: () => {
        try {
          journal.close();
        } finally {
          unlock();
        }
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

/** The same incident given a different store than its journal names is bad input, named, not an internal error. */
function assertSameStore(kase: Case, incident: string, events: readonly CaptureEvent[], path: string): void {
  const started = events.find((e) => e.type === 'capture.started');
  const journaled = started?.type === 'capture.started' ? (started.case as { store?: StoreSpec }).store : undefined;
  if (!journaled) return;
  const where = describeStoreSpec;
  if (where(journaled) === where(kase.store)) return;
  throw new BadInputError({
    field: 'store',
    message: `${where(kase.store)}: incident ${incident} is journaled (${path}) with the store ${where(journaled)}; give that store (\`store\`), or use a new incident id`,
    continues: true,
  });
}
