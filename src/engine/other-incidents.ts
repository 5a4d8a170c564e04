/**
 * The other incidents journaled in a state directory, read-only: one incident's release asks whether
 * another still holds what it would give back (the same user's keys, the same role's sessions).
 */
import { readdirSync } from 'node:fs';
import { INCIDENT_ID_PATTERN } from '../core/incident-id.js';
import type { ChangeRecord } from '../core/types.js';
import { readJournalEvents } from '../evidence/journal.js';
import { deriveJournalState } from '../evidence/journal-state.js';
import { journalPath } from './state-dir.js';

/**
 * Every other incident here holding a reversible change `match` accepts: not restored, and not left
 * by its last release either (a release that left it without keeping it in force let go of it).
 */
export function incidentsHolding(stateDir: string, self: string, match: (change: ChangeRecord) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return [];
  }
  const holding: string[] = [];
  for (const incident of names.sort()) {
    if (incident === self || !INCIDENT_ID_PATTERN.test(incident)) continue;
    let state: ReturnType<typeof deriveJournalState>;
    try {
      state = deriveJournalState(readJournalEvents(journalPath(stateDir, incident)));
    } catch {
      // A journal this process cannot read proves nothing either way; its own commands report it.
      continue;
    }
    const holds = (c: ChangeRecord) => {
      const released = state.released.get(c.id);
      return !released || Boolean(released.kept && !released.restored);
    };
    if (state.changes.some((c) => c.reversible && match(c) && holds(c))) holding.push(incident);
  }
  return holding;
}
