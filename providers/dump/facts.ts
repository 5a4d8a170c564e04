/** What dump discovery found: each target with the tool that will dump it and the versions read. */
import type { DumpParams, DumpTarget } from './params.js';

/** One planned dump: the target, the tool that will take it and the versions discovery found. */
export type PlannedDump = DumpTarget & { tool: string; toolVersion: string; serverVersion: string };

export interface DumpFacts {
  params: DumpParams;
  dumps: PlannedDump[];
}
