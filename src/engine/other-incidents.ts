/**
 * The other incidents journaled in a state directory, read-only: one incident's release asks whether
 * another still holds what it would give back (the same user's keys, the same role's sessions).
 */
import { readdirSync } from 'node:fs';
import { INCIDENT_ID_PATTERN } from '../core/incident-id.js';
import type { ChangeRecord } from '../core/types.js';
import { readJournalEvents } from '../evidence/journal.js';
import { deriveJournalState, type JournalState } from '../evidence/journal-state.js';
import { journalPath } from './state-dir.js';

/**
 * Every other incident here holding a reversible change `match` accepts: not restored, and not left
 * by its last release either (a release that left it without keeping it in force let go of it).
 * The state directory and its journals are read once, on the first question, for all that follow.
 */
export function incidentsHolding(
  stateDir: string,
  self: string,
): (match: (change: ChangeRecord) => boolean) => string[] {
  let others: { incident: string; state: JournalState }[] | undefined;
  return (match) =>
    (others ??= readOthers(stateDir, self))
      .filter(({ state }) => {
        const holds = (c: ChangeRecord) => {
          const released = state.released.get(c.id);
          return !released || Boolean(released.kept && !released.restored);
        };
        return state.changes.some((c) => c.reversible && match(c) && holds(c));
      })
      .map(({ incident }) => incident);
}

/** The journal state of every other incident in `stateDir`, in id order (unreadable journals skipped). */
function readOthers(stateDir: string, self: string): { incident: string; state: JournalState }[] {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return [];
  }
  const others: { incident: string; state: JournalState }[] = [];
  for (const incident of names.sort()) {
    if (incident === self || !INCIDENT_ID_PATTERN.test(incident)) continue;
    try {
      others.push({ incident, state: deriveJournalState(readJournalEvents(journalPath(stateDir, incident))) });
    } catch {
      // A journal this process cannot read proves nothing either way; its own commands report it.
    }
  }
  return others;
}
