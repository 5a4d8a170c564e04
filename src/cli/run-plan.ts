/** Execute (or preflight) a plan from the CLI: events rendered as they come, outcome summarised. */
import type { Command } from 'commander';
import { BadInputError } from '../core/errors.js';
import { inputNames, renderProblem } from './input-names.js';
import { addSignerOptions, signerFromOptions } from './signer-options.js';
import { executePlan, type CaptureOutcome } from '../engine/execute.js';
import type { WebhookNotifier } from '../report/notify.js';
import { notifierFromOptions, reportSitrep } from './sitrep-output.js';
import type { Signer } from '../evidence/signing.js';
import type { CapturePlan, Provider } from '../core/types.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';
import type { Output } from './output.js';
import { createDisplay, type Display } from './live.js';
import { storeObjectLocation } from '../evidence/store-keys.js';

/** Help text for every --state-dir. */
export const STATE_DIR_HELP =
  'where local journals live (default: $HOLDFAST_STATE_DIR, an existing ./.holdfast, else ~/.local/state/holdfast)';

/** After an aborted run has written its outcome, how long before the process exits regardless of open sockets. */
export const ABORT_EXIT_DELAY_MS = 200;

export interface RunPlanOptions {
  providers: readonly Provider[];
  dryRun: boolean;
  concurrency?: number;
  stateDir?: string;
  signer?: Signer;
  notifier?: WebhookNotifier;
}

/** Options shared by the commands that execute a plan (`capture`, `apply`). */
export function addRunOptions(cmd: Command): Command {
  cmd
    .option('--dry-run', 'change nothing: preflight every step (EC2 DryRun, Kubernetes dryRun=All)')
    .option('--concurrency <n>', 'steps in flight at once (default 64; AWS calls are paced per API regardless)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--json', 'NDJSON events and the outcome on stdout');
  return addSignerOptions(cmd);
}

/** Parse the shared run options; every problem names its flag. */
export function runOptionsFrom(
  opts: Record<string, unknown>,
  providers: readonly Provider[],
  region: string | undefined,
): RunPlanOptions {
  const concurrency = parseConcurrency(opts.concurrency);
  const signer = signerFromOptions(opts, region);
  const notifier = notifierFromOptions(opts);
  return {
    providers,
    dryRun: Boolean(opts.dryRun),
    ...(concurrency ? { concurrency } : {}),
    ...(typeof opts.stateDir === 'string' ? { stateDir: opts.stateDir } : {}),
    ...(signer ? { signer } : {}),
    ...(notifier ? { notifier } : {}),
  };
}

/** Steps in flight at most: beyond this, sockets and memory grow while AWS's request rates cap the speed anyway. */
export const MAX_CONCURRENCY = 512;

/** Parse a --concurrency value, naming the input when it is bad. */
export function parseConcurrency(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY)
    throw new BadInputError({
      field: 'concurrency',
      message: `expected a whole number from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(value)}`,
    });
  return n;
}

/** Run the plan; SIGINT aborts cleanly (journal closed, exit 130), a second SIGINT exits at once. */
export async function runPlanFromCli(
  plan: CapturePlan,
  out: Output,
  options: RunPlanOptions,
  display: Display = createDisplay(out),
): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      display.stop();
      process.exit(EXIT.aborted);
    }
    display.say(`${signal}: finishing the calls in flight and closing the journal (again to quit at once)`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const notifier = options.notifier;
  try {
    const outcome = await executePlan(plan, {
      providers: options.providers,
      dryRun: options.dryRun,
      signal: controller.signal,
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
      ...(options.signer ? { signer: options.signer } : {}),
      onEvent: (event) => {
        notifier?.listener(event);
        out.data(event);
        display.event(event);
      },
      onProgress: (progress) => {
        out.data(progress);
        display.progress(progress);
      },
    });
    display.stop();
    summarise(outcome, plan, out);
    // A dry run journals nothing: its sitrep would be the one before it.
    if (!outcome.dryRun || notifier)
      await reportSitrep(plan.incident, outcome.journalPath, out, {
        ...(notifier ? { notifier } : {}),
        json: { dryRun: outcome.dryRun, status: outcome.status },
        what: 'capture',
        quiet: outcome.dryRun,
      });
    out.data({ type: 'outcome', ...outcome });
    // Calls abandoned at Ctrl-C may hold sockets open until their timeout: their intents are
    // journaled and the journal is closed, so exit now rather than wait for them.
    if (outcome.status === 'aborted') setTimeout(() => process.exit(EXIT.aborted), ABORT_EXIT_DELAY_MS).unref();
    return exitCodeFor(outcome);
  } finally {
    display.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function exitCodeFor(outcome: CaptureOutcome): number {
  if (!outcome.dryRun) return exitCodeForStatus(outcome.status);
  const denied = outcome.preflight?.some((r) => r.checks.some((c) => c.allowed === false));
  if (denied) return EXIT.permission;
  if (outcome.storeProblems?.length || outcome.status === 'failed') return EXIT.badInput;
  return EXIT.ok;
}

/** Flags of the case fields (store problems name no provider's). */
const caseNames = inputNames([]);

function summarise(outcome: CaptureOutcome, plan: CapturePlan, out: Output): void {
  out.say('');
  if (outcome.dryRun) {
    const denied =
      outcome.preflight?.flatMap((r) =>
        r.checks
          .filter((c) => c.allowed === false)
          .map((c) => `${r.stepId}: ${c.action}${c.policyFile ? ` (granted by ${c.policyFile})` : ''}`),
      ) ?? [];
    const unproved = outcome.preflight?.flatMap((r) => r.checks.filter((c) => c.allowed === 'unknown')).length ?? 0;
    out.say(
      `dry run for ${outcome.incident}: nothing was changed; ${outcome.preflight?.length ?? 0} steps checked${unproved ? `; ${unproved} ${unproved === 1 ? 'permission' : 'permissions'} could not be proved by a dry run (? above)` : ''}`,
    );
    for (const d of denied) out.say(`  permission missing — ${d}`);
    // The library's store problems begin with the store's location; the CLI names its flag.
    for (const p of outcome.storeProblems ?? [])
      out.say(`  store problem — ${renderProblem({ field: 'store', message: p, continues: true }, caseNames)}`);
  } else {
    if (outcome.alreadySealed) out.say(`${outcome.incident} was already captured and sealed; nothing to do`);
    out.say(
      `capture ${outcome.status}: ${outcome.artifacts.length} artifacts, ${outcome.changes.length} changes, ${outcome.failures.length} failures`,
    );
    for (const f of outcome.failures) out.say(`  FAILED ${f.stepId}: ${f.message}`);
    if (outcome.manifestKey)
      out.say(
        `  manifest: ${storeObjectLocation(plan.case.store, outcome.manifestKey)}${outcome.manifestVersionId ? ` (version ${outcome.manifestVersionId})` : ''}`,
      );
    if (outcome.journalPath) out.say(`  journal: ${outcome.journalPath}`);
    const ttc = outcome.timeToContainment;
    if (ttc && ttc.targets > 1)
      out.say(
        `  time to containment over ${ttc.targets} targets: p50 ${(ttc.p50Ms / 1000).toFixed(1)} s, p95 ${(ttc.p95Ms / 1000).toFixed(1)} s, max ${(ttc.maxMs / 1000).toFixed(1)} s`,
      );
    const aws = outcome.calls?.aws;
    if (aws && (aws.throttles || aws.pacedMs > 1000))
      out.say(
        `  AWS rate limits: ${aws.throttles} throttled calls (retried), ${(aws.pacedMs / 1000).toFixed(1)} s of calls waiting for tokens`,
      );
  }
  for (const w of outcome.waiting) out.say(`  WAITING ${w.stepId}: ${w.detail}`);
  // A capture's limitations are in its sitrep, printed next, one line each; a dry run has none.
  if (outcome.dryRun) for (const l of outcome.limitations) out.say(`  limitation: ${l}`);
}
