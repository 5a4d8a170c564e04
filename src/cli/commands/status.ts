/** `evidence status --incident ID`: what is done, pending and failed, from the journal. */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { assertIncidentId } from '../../case.js';
import { storeFromOption } from '../store-option.js';
import { readJournalFromStore } from '../../store-journal.js';
import { BadInputError } from '../../errors.js';
import { DEFAULT_STATE_DIR, journalPath } from '../../execute.js';
import { checkJournalChain } from '../../journal.js';
import { buildSitrep, renderSitrepMarkdown } from '../../sitrep.js';
import { statusFromJournal } from '../../status.js';
import { createOutput } from '../output.js';

/** Register `status`. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('what is done, pending and failed for an incident (from its journal)')
    .option('--incident <id>', 'incident id')
    .option('--state-dir <dir>', 'where the local journal lives (default ./.holdfast)')
    .option('--store <where>', 'read the journal from this evidence store when it is not on this machine')
    .option('--sitrep', 'a situation report (Markdown on stdout; with --json, as data)')
    .option('--json', 'the status as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  evidence status --incident IR-2026-0042\n  evidence status --incident IR-2026-0042 --sitrep > sitrep.md')
    .action(async (opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      const incident = assertIncidentId(opts.incident);
      const stateDir = (opts.stateDir as string | undefined) ?? process.env.HOLDFAST_STATE_DIR ?? DEFAULT_STATE_DIR;
      const path = journalPath(stateDir, incident);
      let text: string;
      if (existsSync(path)) text = readFileSync(path, 'utf8');
      else if (typeof opts.store === 'string') {
        text = await readJournalFromStore(storeFromOption(opts.store), incident);
        if (!text) throw new BadInputError(`bad input: --incident ${incident}: no journal in ${opts.store}`);
      } else throw new BadInputError(`bad input: --incident ${incident}: no journal at ${path} (pass --store to read it from the evidence store)`);
      const chain = checkJournalChain(text);
      if (opts.sitrep) {
        const sitrep = buildSitrep(incident, chain.events, new Date().toISOString());
        if (opts.json) out.data({ type: 'sitrep', ...sitrep });
        else process.stdout.write(renderSitrepMarkdown(sitrep));
        return;
      }
      const report = statusFromJournal(incident, chain.events);
      out.data({ type: 'status', ...report, journalIntact: chain.ok });
      out.say(`${incident}: ${report.sealed ? `sealed (${report.sealed.status}) at ${report.sealed.at}` : 'not sealed yet'}; journal ${chain.ok ? 'intact' : 'BROKEN'}`);
      out.say(`  steps: ${Object.entries(report.counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}`);
      for (const s of report.steps.filter((s) => s.status !== 'done')) out.say(`  ${s.status.toUpperCase()} ${s.id}${s.detail ? ` — ${s.detail}` : ''}`);
      out.say(`  ${report.artifacts} artifacts, ${report.changes} changes, ${report.released} released`);
      for (const l of report.limitations) out.say(`  limitation: ${l}`);
    });
}
