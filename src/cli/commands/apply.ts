/** `evidence apply plan.json`: execute exactly a saved plan. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BadInputError } from '../../core/errors.js';
import { assertUsablePlan } from '../../engine/saved-plan.js';
import type { Provider } from '../../core/types.js';
import { createOutput } from '../output.js';
import { addRunOptions, runOptionsFrom, runPlanFromCli } from '../run-plan.js';

/** Register `apply`. */
export function registerApplyCommand(program: Command, providers: readonly Provider[]): void {
  const cmd = program
    .command('apply')
    .description('execute exactly the steps of a plan saved by `evidence plan --out`')
    .argument('<plan>', 'plan JSON file')
    .addHelpText(
      'after',
      '\nExample:\n  evidence plan --incident IR-2026-0042 --instance i-0abc123def4567890 --out plan.json && evidence apply plan.json',
    );
  addRunOptions(cmd).action(async (file: string, opts: Record<string, unknown>) => {
    const out = createOutput(Boolean(opts.json));
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new BadInputError(`plan ${file}: ${(error as NodeJS.ErrnoException).code ?? 'not valid JSON'}`);
    }
    const plan = assertUsablePlan(value, providers, `plan ${file}`);
    process.exitCode = await runPlanFromCli(plan, out, runOptionsFrom(opts, providers, plan.case.region));
  });
}
