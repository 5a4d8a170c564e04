/** `evidence export --incident ID --format case`: the sealed manifest as CASE/UCO JSON-LD for examiners' tools. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { BadInputError } from '../../core/errors.js';
import { assertIncidentId } from '../../engine/case.js';
import { findIncidentStore } from '../../engine/incident-store.js';
import { resolveStateDir } from '../../engine/state-dir.js';
import { checkJournalChain } from '../../evidence/journal.js';
import type { Manifest } from '../../evidence/manifest.js';
import { streamToString } from '../../evidence/store-journal.js';
import { deriveJournalState } from '../../evidence/journal-state.js';
import { CASE_VERSION, manifestToCase } from '../../report/case-export.js';
import { STATE_DIR_HELP } from '../run-plan.js';
import { readIncidentJournal, storeFromSpec, storeSpecFromOption } from '../store-option.js';
import { createOutput } from '../output.js';

/** Register `export`. */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description(`the sealed manifest in another format: case (CASE ${CASE_VERSION} / UCO JSON-LD)`)
    .option('--incident <id>', 'incident id')
    .addOption(new Option('--format <format>', 'the format').choices(['case']).default('case'))
    .option('--out <file>', 'where to write it (default ./<incident>.case.jsonld; - for stdout)')
    .option('--store <where>', 'the evidence store holding the manifest (default: the one the capture recorded)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .addHelpText(
      'after',
      '\nExamples:\n  evidence export --incident IR-2026-0042 --format case\n  case_validate IR-2026-0042.case.jsonld',
    )
    .action(async (opts: Record<string, unknown>) => {
      const incident = assertIncidentId(opts.incident);
      const stateDir = resolveStateDir(opts.stateDir as string | undefined);
      const chain = checkJournalChain(await readIncidentJournal(incident, stateDir, opts.store));
      const sealed = deriveJournalState(chain.events).sealed;
      if (!sealed)
        throw new BadInputError({
          field: 'incident',
          message: `${incident}: not sealed yet; export needs the sealed manifest`,
        });
      const recorded = opts.store === undefined ? findIncidentStore(stateDir, incident) : undefined;
      const store = recorded
        ? storeFromSpec(recorded.spec, recorded.region)
        : storeFromSpec(storeSpecFromOption(opts.store));
      const manifest = JSON.parse(
        await streamToString(await store.get(sealed.manifestKey, sealed.manifestVersionId)),
      ) as Manifest;
      const text = `${JSON.stringify(manifestToCase(manifest, chain.events), null, 2)}\n`;
      const target = typeof opts.out === 'string' ? opts.out : `${incident}.case.jsonld`;
      if (target === '-') process.stdout.write(text);
      else {
        writeFileSync(target, text);
        createOutput(false).say(`CASE ${CASE_VERSION} JSON-LD for ${incident} written to ${resolve(target)}`);
      }
    });
}
