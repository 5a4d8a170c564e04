/**
 * `evidence report --incident ID`: the retrospective report, one self-contained HTML file (or
 * Markdown) from the journal, with the evidence verified against the store as it is now.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { assertIncidentId } from '../../engine/case.js';
import { findIncidentStore } from '../../engine/incident-store.js';
import { heldEvidenceChecker } from '../../engine/held-evidence.js';
import { resolveStateDir } from '../../engine/state-dir.js';
import { checkJournalChain } from '../../evidence/journal.js';
import { verifyEvidence } from '../../evidence/verify.js';
import {
  buildRetrospective,
  renderRetrospectiveHtml,
  renderRetrospectiveMarkdown,
} from '../../report/retrospective.js';
import { STATE_DIR_HELP } from '../run-plan.js';
import { readIncidentJournal, storeFromSpec, storeSpecFromOption } from '../store-option.js';
import { createOutput } from '../output.js';

/** Register `report`. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('the retrospective report: timeline picture, time to containment, artifacts, changes, verification')
    .option('--incident <id>', 'incident id')
    .addOption(
      new Option('--format <format>', 'html (one self-contained file) or markdown')
        .choices(['html', 'markdown'])
        .default('html'),
    )
    .option('--out <file>', 'where to write it (default ./<incident>-report.html or .md; - for stdout)')
    .option(
      '--store <where>',
      'evidence store to verify against and read the journal from (default: the one the capture recorded)',
    )
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--offline', 'verify without asking the platform about snapshots (bytes, chain, seals and signatures only)')
    .option('--no-verify', 'leave verification out of the report')
    .addHelpText(
      'after',
      '\nExamples:\n  evidence report --incident IR-2026-0042\n  evidence report --incident IR-2026-0042 --format markdown --out - > report.md',
    )
    .action(async (opts: Record<string, unknown>) => {
      const out = createOutput(false);
      const incident = assertIncidentId(opts.incident);
      const stateDir = resolveStateDir(opts.stateDir as string | undefined);
      const chain = checkJournalChain(await readIncidentJournal(incident, stateDir, opts.store));
      let verification: Parameters<typeof buildRetrospective>[3];
      if (opts.verify !== false) {
        const recorded = opts.store === undefined ? findIncidentStore(stateDir, incident) : undefined;
        const store = recorded
          ? storeFromSpec(recorded.spec, recorded.region)
          : storeFromSpec(storeSpecFromOption(opts.store));
        try {
          verification = await verifyEvidence(store, incident, {
            ...(opts.offline ? {} : { checkHeld: heldEvidenceChecker(store, incident, { hashSnapshots: false }) }),
          });
        } catch (error) {
          verification = { error: `verification could not run: ${(error as Error).message}` };
        }
      }
      const report = buildRetrospective(incident, chain.events, new Date().toISOString(), verification);
      const markdown = opts.format === 'markdown';
      const text = markdown ? renderRetrospectiveMarkdown(report) : renderRetrospectiveHtml(report);
      const target = typeof opts.out === 'string' ? opts.out : `${incident}-report.${markdown ? 'md' : 'html'}`;
      if (target === '-') process.stdout.write(text);
      else {
        writeFileSync(target, text);
        out.say(`report for ${incident} written to ${resolve(target)}`);
      }
      if (!chain.ok) out.say(`note: the journal's chain is broken: ${chain.problems.join('; ')}`);
      if (report.verification && !report.verification.ok)
        out.say('note: verification FAILED; the report says which checks');
    });
}
