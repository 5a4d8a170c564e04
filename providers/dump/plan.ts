/** The pure dump planner: one collect step per target. */
import type { StepDraft } from '../../src/core/types.js';
import type { DumpFacts } from './facts.js';
import { dumpStepId, type DumpStep } from './steps.js';

/** Facts → one dump step per database. */
export function planDump(facts: DumpFacts): { steps: StepDraft<DumpStep>[]; limitations: string[] } {
  return {
    steps: facts.dumps.map((d) => ({
      id: dumpStepId(d),
      action: 'dump' as const,
      phase: 'collect' as const,
      target: `db:${d.host}:${d.port}/${d.database}`,
      title: `dump ${d.url} with ${d.tool}`,
      inputs: { ...d, params: facts.params },
    })),
    limitations: [],
  };
}
