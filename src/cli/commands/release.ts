/** `evidence release --incident ID --approve`: undo containment exactly, from the record. */
import type { Command } from 'commander';
import { assertIncidentId } from '../../engine/case.js';
import { storeFromOption } from '../store-option.js';
import { BadInputError } from '../../core/errors.js';
import { readJournalEvents } from '../../evidence/journal.js';
import { createWebhookNotifier } from '../../report/notify.js';
import { releaseContainment } from '../../engine/release.js';
import { buildSitrep, renderSitrepMarkdown } from '../../report/sitrep.js';
import type { Provider } from '../../core/types.js';
import { EXIT } from '../exit-codes.js';
import { createOutput, describeEvent } from '../output.js';
import { STATE_DIR_HELP, webhookUrl } from '../run-plan.js';
import { signerFromOptions } from '../signer-options.js';

/** Register `release`. */
export function registerReleaseCommand(program: Command, providers: readonly Provider[]): void {
  program
    .command('release')
    .description('restore what containment changed (groups, labels, cordons); deletes nothing')
    .option('--incident <id>', 'incident id')
    .option('--approve', 'required: release is a deliberate act')
    .option('--dry-run', 'list what release would undo, from the journal; changes nothing (no --approve needed)')
    .option(
      '--readopt',
      'give pods back to controllers even where one is predicted to delete them (Kubernetes: after setting controller.kubernetes.io/pod-deletion-cost so the evidence pod is deleted last)',
    )
    .option('--restore-protection', 'also restore termination/stop protection and other preservation changes')
    .option('--store <where>', 'read the journal from this store when it is not on this machine')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option(
      '--notify-webhook <url>',
      'post the release and the new sitrep as JSON (or env:NAME to read the URL from a variable)',
    )
    .option('--sign-key <file>', 'sign the release record (required when the capture was signed: the same key)')
    .option('--sign-kms-key <arn>', 'sign the release record with this AWS KMS ECC_NIST_P256 key')
    .option('--json', 'NDJSON events and the outcome on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  evidence release --incident IR-2026-0042 --dry-run\n  evidence release --incident IR-2026-0042 --approve',
    )
    .action(async (opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      const incident = assertIncidentId(opts.incident);
      if (!opts.approve && !opts.dryRun)
        throw new BadInputError(
          '--approve is required to release containment (or --dry-run to see what it would undo)',
        );
      const store = typeof opts.store === 'string' ? storeFromOption(opts.store) : undefined;
      const hook = typeof opts.notifyWebhook === 'string' ? webhookUrl(opts.notifyWebhook) : undefined;
      const signer = signerFromOptions(opts);
      const outcome = await releaseContainment({
        incident,
        ...(signer ? { signer } : {}),
        providers,
        restoreProtection: Boolean(opts.restoreProtection),
        dryRun: Boolean(opts.dryRun),
        readopt: Boolean(opts.readopt),
        ...(store ? { store } : {}),
        ...(typeof opts.stateDir === 'string' ? { stateDir: opts.stateDir } : {}),
        onEvent: (e) => {
          out.data(e);
          const line = describeEvent(e);
          if (line) out.say(line);
        },
      });
      out.data({ type: 'outcome', ...outcome });
      if (outcome.wouldRestore) {
        for (const c of outcome.wouldRestore)
          out.say(
            `  would restore ${c.resource} ${c.attribute}: ${JSON.stringify(c.after)} → ${JSON.stringify(c.before)}`,
          );
        for (const p of outcome.predictions ?? []) out.say(`  predicted: ${p}`);
        out.say(
          `release dry run: ${outcome.wouldRestore.length} changes would be undone (each only if still as holdfast left it); nothing was changed`,
        );
        return;
      }
      if (outcome.status === 'nothing-to-release')
        out.say(
          `release ${incident}: nothing to release — no containment is recorded, or all of it was already released`,
        );
      else out.say(`release ${outcome.status}: ${outcome.restored.length} restored, ${outcome.failed.length} failed`);
      if (hook) {
        // Containment lifted is news for the channel that was told it was in place.
        const sitrep = buildSitrep(incident, readJournalEvents(outcome.journalPath), new Date().toISOString());
        const posted = await createWebhookNotifier(hook).finish({
          type: 'release',
          status: outcome.status,
          restored: outcome.restored.length,
          failed: outcome.failed.length,
          notes: outcome.notes,
          sitrep,
          markdown: renderSitrepMarkdown(sitrep),
        });
        if (posted.failed) out.say('note: the webhook post failed (the release is not affected)');
      }
      process.exitCode = outcome.failed.length ? EXIT.partial : EXIT.ok;
    });
}
