/** Who holds an incident's roles, folded from its journal (pure): the case's, then each `roles.recorded`. */
import type { CaptureEvent } from '../core/events.js';
import type { Case } from '../core/types.js';

/** The roles folded from the journal, and whether it was declared a false alarm. */
export interface IncidentRoles {
  commander?: string;
  responders: string[];
  /** The latest IC hand-over. */
  handOver?: { from?: string; to: string; at: string };
  falseAlarm?: { at: string; commander?: string };
}

/** Fold the roles an incident's journal records (pure). */
export function foldRoles(events: readonly CaptureEvent[]): IncidentRoles {
  const roles: IncidentRoles = { responders: [] };
  const join = (names: readonly string[] | undefined) => {
    for (const n of names ?? []) if (!roles.responders.includes(n)) roles.responders.push(n);
  };
  for (const e of events) {
    if (e.type === 'capture.started') {
      const kase = e.case as Partial<Case> | undefined;
      if (kase?.commander) roles.commander = kase.commander;
      join(kase?.responders);
      // A new capture after a false alarm means it was not one after all.
      delete roles.falseAlarm;
    } else if (e.type === 'roles.recorded') {
      if (e.commander) {
        if (e.takeOver)
          roles.handOver = { ...(e.previousCommander ? { from: e.previousCommander } : {}), to: e.commander, at: e.at };
        roles.commander = e.commander;
      }
      join(e.responders);
    } else if (e.type === 'incident.false-alarm') {
      roles.falseAlarm = { at: e.at, ...(e.commander ? { commander: e.commander } : {}) };
    }
  }
  return roles;
}
