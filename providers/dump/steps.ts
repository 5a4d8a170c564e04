/** The dump provider's action table and step ids. */
import type { StepOf } from '../../src/core/types.js';
import type { PlannedDump } from './facts.js';
import type { DumpParams, DumpTarget } from './params.js';

/** The dump provider's one action. */
export type DumpActions = {
  dump: {
    inputs: PlannedDump & { params: DumpParams };
    outputs: { sha256: string | null; size: number | null };
  };
};

/** A dump step. */
export type DumpStep = StepOf<DumpActions>;

/** The step id of a target's dump (other providers relate to it by host). */
export function dumpStepId(t: DumpTarget): string {
  return `dump/${t.engine}/${t.host}-${t.port}-${t.database}`.replace(/[^A-Za-z0-9/._-]/g, '_');
}
