/** `evidence drill`: rehearse the whole response against local emulators; no cloud account needed. */
import { Option, type Command } from 'commander';
import { DRILL_SCENARIOS, SCENARIO_SPECS } from '../../drill/scenarios.js';
import { renderSitrepMarkdown } from '../../report/sitrep.js';
import type { Provider } from '../../core/types.js';
import { EXIT } from '../exit-codes.js';
import { createOutput, describeEvent } from '../output.js';

/** Register `drill`. */
export function registerDrillCommand(program: Command, providers: readonly Provider[]): void {
  program
    .command('drill')
    .description('run a complete exercise (plan, dry run, capture, verify, release) against local emulators')
    .addOption(
      new Option('--scenario <name>', 'scenario to seed').choices([...DRILL_SCENARIOS]).default('web-compromise'),
    )
    .option('--json', 'NDJSON events and the drill report on stdout')
    .addHelpText(
      'after',
      `\nScenarios:\n${DRILL_SCENARIOS.map((s) => `  ${s.padEnd(22)} ${SCENARIO_SPECS[s].summary}`).join('\n')}\n\nExamples:\n  evidence drill            # needs Python 3 with venv for the AWS emulator (installed on first use)\n  evidence drill --scenario suspected-compromise`,
    )
    .action(async (opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      // Loaded here: the drill's seeding imports every AWS SDK, which other commands need not pay for.
      const [{ runDrill }, { drillExtensions }] = await Promise.all([
        import('../../drill/run-drill.js'),
        import('../../drill/extensions.js'),
      ]);
      out.say(
        `drill "${String(opts.scenario)}": starting local emulators (first run installs the AWS emulator; this can take a minute)`,
      );
      const report = await runDrill({
        scenario: opts.scenario as (typeof DRILL_SCENARIOS)[number],
        providers,
        extensions: drillExtensions,
        log: (line) => out.say(`  ${line}`),
        onStage: (s) => out.say(`${s.ok ? '✓' : '✗'} ${s.stage.padEnd(9)} ${String(s.ms).padStart(6)} ms  ${s.detail}`),
        onEvent: (e) => {
          out.data(e);
          const line = describeEvent(e);
          if (line && (e.type === 'step.failed' || e.type === 'capture.sealed')) out.say(line);
        },
      });
      for (const s of report.skipped) out.say(`  skipped ${s.provider}: ${s.reason}`);
      for (const p of report.phases ?? [])
        out.say(`  phase ${p.phase.padEnd(8)} ${p.ms === null ? 'unfinished' : `${p.ms} ms`}`);
      if (report.waitingSitrep)
        out.say(`\nWhile containment waited for approval:\n\n${renderSitrepMarkdown(report.waitingSitrep)}`);
      if (report.sitrep) out.say(`\n${renderSitrepMarkdown(report.sitrep)}`);
      out.data({ type: 'drill', ...report });
      out.say(`drill ${report.ok ? 'passed' : 'FAILED'} for ${report.incident} (work files in ${report.workdir})`);
      process.exitCode = report.ok ? EXIT.ok : EXIT.partial;
    });
}
