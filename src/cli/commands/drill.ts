/** `evidence drill`: rehearse the whole response against local emulators; no cloud account needed. */
import { Option, type Command } from 'commander';
import { DRILL_SCENARIOS, SCENARIO_SPECS } from '../../drill/scenarios.js';
import { renderSitrepText } from '../../report/sitrep.js';
import type { Provider } from '../../core/types.js';
import { EXIT } from '../exit-codes.js';
import { createOutput, describeEvent } from '../output.js';
import { createDisplay } from '../live.js';

/** What the drill does after each stage, for the live line. */
const NEXT_STAGE: Record<string, string> = {
  emulators: 'seeding the scenario (instance, volumes, Auto Scaling group, database, pod)',
  seed: 'discovery and planning',
  plan: 'the dry run (preflight of every step)',
  'dry-run': 'the capture',
  capture: 'verify (re-reading every artifact)',
  approve: 'verify (re-reading every artifact)',
  verify: 'release',
};

/** Register `drill`. */
export function registerDrillCommand(program: Command, providers: readonly Provider[]): void {
  program
    .command('drill')
    .description('run a complete exercise (plan, dry run, capture, verify, release) against local emulators')
    .addOption(
      new Option('--scenario <name>', 'scenario to seed').choices([...DRILL_SCENARIOS]).default('web-compromise'),
    )
    .option(
      '--with-kubernetes',
      'build the local Kubernetes servers (etcd, kube-apiserver) when missing, so the drill quarantines a pod too (needs Go; 15+ minutes the first time)',
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
      const display = createDisplay(out);
      const waiting = (what?: string) =>
        display.progress({
          type: 'progress',
          at: new Date().toISOString(),
          incident: '',
          ...(what ? { waitingOn: what } : { done: true }),
        });
      display.say(
        `drill "${String(opts.scenario)}": starting local emulators (first run installs the AWS emulator; this can take a minute)`,
      );
      let report;
      try {
        waiting('the AWS emulator (moto) to start');
        report = await runDrill({
          scenario: opts.scenario as (typeof DRILL_SCENARIOS)[number],
          providers,
          extensions: drillExtensions,
          withKubernetes: Boolean(opts.withKubernetes),
          // Installs and builds say what they are doing: the live line shows the latest, plain output every line.
          log: (line) => waiting(line),
          onStage: (s) => {
            waiting();
            display.say(`${s.ok ? '✓' : '✗'} ${s.stage.padEnd(9)} ${String(s.ms).padStart(6)} ms  ${s.detail}`);
            const next = NEXT_STAGE[s.stage];
            if (next) waiting(next);
          },
          onEvent: (e) => {
            out.data(e);
            const line = describeEvent(e);
            if (line && (e.type === 'step.failed' || e.type === 'capture.sealed')) display.say(line);
          },
        });
      } finally {
        display.stop();
      }
      for (const s of report.skipped) out.say(`  skipped ${s.provider}: ${s.reason}`);
      for (const p of report.phases ?? [])
        out.say(`  phase ${p.phase.padEnd(8)} ${p.ms === null ? 'unfinished' : `${p.ms} ms`}`);
      if (report.waitingSitrep)
        out.say(`\nWhile containment waited for approval:\n\n${renderSitrepText(report.waitingSitrep)}`);
      if (report.sitrep) out.say(`\n${renderSitrepText(report.sitrep)}`);
      out.data({ type: 'drill', ...report });
      out.say(`drill ${report.ok ? 'passed' : 'FAILED'} for ${report.incident} (work files in ${report.workdir})`);
      process.exitCode = report.ok ? EXIT.ok : EXIT.partial;
    });
}
