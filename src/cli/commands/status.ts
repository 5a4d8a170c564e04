/** `evidence status --incident ID`: what is done, pending and failed, from the journal. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { assertIncidentId } from '../../engine/case.js';
import { storeFromOption, storeFromSpec } from '../store-option.js';
import { readJournalFromStore } from '../../evidence/store-journal.js';
import { BadInputError } from '../../core/errors.js';
import { journalPath, resolveStateDir } from '../../engine/execute.js';
import { checkJournalChain } from '../../evidence/journal.js';
import { buildSitrep } from '../../report/sitrep.js';
import { writeSitrep } from './sitrep.js';
import { statusFromJournal, type StatusReport } from '../../report/status.js';
import { inspectLock, type LockState } from '../../engine/incident-lock.js';
import { findIncidentStore } from '../../engine/incident-store.js';
import { finishInterruptedSeal } from '../../engine/seal.js';
import { STATE_DIR_HELP } from '../run-plan.js';
import { createOutput } from '../output.js';

/** Register `status`. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('what is done, pending and failed for an incident (from its journal)')
    .option('--incident <id>', 'incident id (without it: every incident journaled in the state dir)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--store <where>', 'read the journal from this evidence store when it is not on this machine')
    .option(
      '--sitrep',
      'a situation report (Markdown on stdout; with --json, as data): `evidence sitrep` has more formats',
    )
    .option('--json', 'the status as JSON on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  evidence status\n  evidence status --incident IR-2026-0042\n  evidence status --incident IR-2026-0042 --sitrep > sitrep.md',
    )
    .action(async (opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      const stateDir = resolveStateDir(opts.stateDir as string | undefined);
      if (opts.incident === undefined && !opts.sitrep && typeof opts.store !== 'string') {
        listIncidents(stateDir, out);
        return;
      }
      const incident = assertIncidentId(opts.incident);
      const path = journalPath(stateDir, incident);
      let text: string;
      let lock: LockState | undefined;
      if (existsSync(path)) {
        // A run killed while sealing is finished here, as the next capture would (under the lock).
        const recorded = findIncidentStore(stateDir, incident);
        const store =
          typeof opts.store === 'string'
            ? storeFromOption(opts.store)
            : recorded
              ? storeFromSpec(recorded.spec, recorded.region)
              : undefined;
        const finished = await finishInterruptedSeal(path, incident, store);
        for (const line of [...finished.completed, ...finished.unfinished]) out.say(`note: ${line}`);
        lock = inspectLock(path);
        text = readFileSync(path, 'utf8');
      } else if (typeof opts.store === 'string') {
        text = await readJournalFromStore(storeFromOption(opts.store), incident);
        if (!text) throw new BadInputError(`--incident ${incident}: no journal in ${opts.store}`);
      } else
        throw new BadInputError(
          `--incident ${incident}: no journal at ${path} (pass --store to read it from the evidence store)`,
        );
      const chain = checkJournalChain(text);
      if (opts.sitrep) {
        const run = statusFromJournal(incident, chain.events, lock).run;
        // The same as `evidence sitrep --format markdown` (or json), kept for scripts written before it.
        writeSitrep(
          buildSitrep(incident, chain.events, new Date().toISOString(), { run }),
          opts.json ? 'json' : 'markdown',
        );
        return;
      }
      const report = statusFromJournal(incident, chain.events, lock);
      out.data({ type: 'status', ...report, journalIntact: chain.ok });
      out.say(
        `${incident}: ${report.sealed ? `sealed (${report.sealed.status}) at ${report.sealed.at}` : 'not sealed yet'}; journal ${chain.ok ? 'intact' : 'BROKEN'}`,
      );
      const run = runLine(report);
      if (run) out.say(`  ${run}`);
      out.say(
        `  steps: ${
          Object.entries(report.counts)
            .filter(([, n]) => n)
            .map(([k, n]) => `${n} ${k}`)
            .join(', ') || 'none'
        }`,
      );
      for (const s of report.steps.filter((s) => s.status !== 'done'))
        out.say(`  ${s.status.toUpperCase()} ${s.id}${s.detail ? ` — ${s.detail}` : ''}`);
      out.say(`  ${report.artifacts} artifacts, ${report.changes} changes, ${report.released} released`);
      if (report.unsealed.events)
        out.say(
          `  UNSEALED: ${report.unsealed.events} events from #${report.unsealed.fromSeq} (${report.unsealed.artifacts} artifacts) are covered by no seal yet — not verifiable evidence until the run that wrote them seals`,
        );
      for (const l of report.limitations) out.say(`  limitation: ${l}`);
    });
}

/** One line per incident journaled in `stateDir`: the first question at a shift change is "what is open?". */
function listIncidents(stateDir: string, out: ReturnType<typeof createOutput>): void {
  const incidents = existsSync(stateDir)
    ? readdirSync(stateDir)
        .filter((name) => existsSync(journalPath(stateDir, name)))
        .sort()
    : [];
  if (!incidents.length) {
    out.say(
      `no incidents journaled in ${stateDir} (give --state-dir, or --incident with --store to read one from the evidence store)`,
    );
    return;
  }
  for (const incident of incidents) {
    const chain = checkJournalChain(readFileSync(journalPath(stateDir, incident), 'utf8'));
    const report = statusFromJournal(incident, chain.events, inspectLock(journalPath(stateDir, incident)));
    const sitrep = buildSitrep(incident, chain.events, new Date().toISOString(), { run: report.run });
    out.data({
      type: 'incident',
      incident,
      status: sitrep.status,
      run: report.run,
      sealed: report.sealed ?? null,
      counts: report.counts,
      lastAt: report.lastAt ?? null,
      journalIntact: chain.ok,
    });
    const open = Object.entries(report.counts)
      .filter(([k, n]) => n && k !== 'done')
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    const run = runLine(report);
    out.say(
      `${incident}  ${run ? `${run}; ` : ''}${sitrep.status}${report.sealed ? `, sealed ${report.sealed.status}` : ', not sealed'}${open ? ` — ${open}` : ''}  (last ${report.lastAt ?? 'never'})${chain.ok ? '' : '  JOURNAL BROKEN'}`,
    );
  }
}

/** Who runs the incident now, or that its last run was interrupted and how to resume it; undefined when idle. */
function runLine(report: StatusReport): string | undefined {
  const { run } = report;
  if (run.state === 'running')
    return `RUNNING: ${run.command ?? 'a run'} in process ${run.holder?.pid} on ${run.holder?.host}`;
  if (run.state === 'interrupted') return run.resume;
  return undefined;
}
