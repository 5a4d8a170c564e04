/** `evidence capture` and `evidence plan`: validate, discover, plan; then run, preflight or save. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { planCapture } from '../../engine/capture.js';
import { signPlan } from '../../engine/saved-plan.js';
import { signerFromOptions } from '../signer-options.js';
import type { CapturePlan, Provider } from '../../core/types.js';
import { addCaseOptions } from '../case-options.js';
import { describeStoreSpec } from '../../evidence/store-keys.js';
import { chooseStateDir, describeStateDir, journalPath } from '../../engine/state-dir.js';
import { createOutput, type Output } from '../output.js';
import { addRunOptions, runOptionsFrom, runPlanFromCli } from '../run-plan.js';
import { createDisplay } from '../live.js';

const EXAMPLES = `
Examples:
  evidence capture --incident IR-2026-0042 --instance i-0abc123def4567890 --forensic-cidr 203.0.113.7/32 --store s3://ir-evidence/cases
  evidence capture --incident IR-2026-0042 --case case.yaml --dry-run
  evidence capture --incident IR-2026-0042 --db-instance orders --severity low     (containment waits for approval)`;

/** What a step waits for, named: one or two step ids, else how many. */
function waitsFor(step: CapturePlan['steps'][number]): string {
  const ids = step.dependsOn;
  if (!ids.length) return '';
  return ids.length <= 2 ? `  (after ${ids.join(', ')})` : `  (after ${ids[0]} and ${ids.length - 1} other steps)`;
}

function printPlan(plan: CapturePlan, out: Pick<Output, 'say'>): void {
  out.say(`plan for ${plan.incident} (${plan.steps.length} steps, digest ${plan.digest.slice(0, 16)}…):`);
  for (const s of plan.steps) {
    out.say(`  [${s.phase}] ${s.id} — ${s.title}${s.awaitsApproval ? '  (waits for approval)' : ''}${waitsFor(s)}`);
  }
  for (const l of plan.limitations) out.say(`  limitation: ${l}`);
}

/** Where the evidence and the journal go, absolute: a responder must be able to find both later. */
function printPlaces(
  plan: CapturePlan,
  defaultStore: boolean,
  stateDir: string | undefined,
  out: Pick<Output, 'say'>,
): void {
  out.say(
    `evidence store: ${describeStoreSpec(plan.case.store)}${defaultStore ? ' (the default, as no --store was given)' : ''}`,
  );
  const state = chooseStateDir(stateDir);
  out.say(`journal: ${journalPath(state.dir, plan.incident)}`);
  const note = describeStateDir(state);
  if (note) out.say(`  ${note}`);
}

/** Register `capture` and `plan`. */
export function registerCaptureCommands(program: Command, providers: readonly Provider[]): void {
  const capture = program
    .command('capture')
    .description('preserve, collect and contain, then seal the evidence manifest');
  const toCase = addCaseOptions(capture, providers);
  addRunOptions(
    capture.option('--plan-out <file>', 'also save the plan as JSON').addHelpText('after', EXAMPLES),
  ).action(async (opts: Record<string, unknown>) => {
    const out = createOutput(Boolean(opts.json));
    const caseInput = toCase(opts);
    const run = runOptionsFrom(opts, providers, typeof caseInput.region === 'string' ? caseInput.region : undefined);
    const display = createDisplay(out);
    try {
      const plan = await planCapture(caseInput, { providers, onProgress: (p) => (out.data(p), display.progress(p)) });
      if (typeof opts.planOut === 'string') writeFileSync(opts.planOut, `${JSON.stringify(plan, null, 2)}\n`);
      printPlan(plan, display);
      printPlaces(plan, caseInput.store === undefined, run.stateDir, display);
      process.exitCode = await runPlanFromCli(plan, out, run, display);
    } finally {
      display.stop();
    }
  });

  const planCmd = program
    .command('plan')
    .description('print and save the plan and the preflight report; changes nothing');
  const toPlanCase = addCaseOptions(planCmd, providers);
  planCmd
    .option('--out <file>', 'save the plan as JSON (for `evidence apply`)')
    .option('--sign-key <file>', 'sign the plan with this Ed25519 key, for `evidence apply --require-signed`')
    .option('--sign-kms-key <arn>', 'sign the plan with this AWS KMS ECC_NIST_P256 key')
    .option('--no-preflight', 'skip the permission preflight')
    .option('--json', 'NDJSON events and the plan on stdout')
    .addHelpText(
      'after',
      `\nExamples:\n  evidence plan --incident IR-2026-0042 --instance i-0abc123def4567890 --out plan.json\n  evidence apply plan.json\n  evidence plan … --out plan.json --sign-key reviewer.key && evidence apply plan.json --require-signed --public-key reviewer.key.pub`,
    )
    .action(async (opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      const display = createDisplay(out);
      try {
        const caseInput = toPlanCase(opts);
        const signer = signerFromOptions(opts, typeof caseInput.region === 'string' ? caseInput.region : undefined);
        const planned = await planCapture(caseInput, {
          providers,
          onProgress: (p) => (out.data(p), display.progress(p)),
        });
        const plan = signer ? await signPlan(planned, signer) : planned;
        if (signer) display.say(`plan signed by ${signer.keyId}`);
        if (typeof opts.out === 'string') {
          writeFileSync(opts.out, `${JSON.stringify(plan, null, 2)}\n`);
          display.say(`plan saved to ${opts.out}`);
        }
        printPlan(plan, display);
        out.data({ type: 'plan', plan });
        process.exitCode =
          opts.preflight === false ? 0 : await runPlanFromCli(plan, out, { providers, dryRun: true }, display);
      } finally {
        display.stop();
      }
    });
}
