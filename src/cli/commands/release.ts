/** `evidence release --incident ID --approve`: undo containment exactly, from the record. */
import type { Command } from 'commander';
import { assertIncidentId } from '../../engine/case.js';
import { storeFromOption } from '../store-option.js';
import { BadInputError } from '../../core/errors.js';
import { releaseContainment } from '../../engine/release.js';
import { recordIncidentRoles } from '../../engine/roles.js';
import type { Provider } from '../../core/types.js';
import { EXIT } from '../exit-codes.js';
import { createOutput, describeEvent } from '../output.js';
import { STATE_DIR_HELP } from '../run-plan.js';
import { addNotifyOptions, notifierFromOptions, reportSitrep } from '../sitrep-output.js';
import { collectNames, rolesFromOptions } from './sitrep.js';
import { signerFromOptions } from '../signer-options.js';

/** Register `release`. */
export function registerReleaseCommand(program: Command, providers: readonly Provider[]): void {
  const cmd = program
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
    .option(
      '--restore-credentials',
      'also lift credential containment (revoked role sessions, deactivated access keys); refused while another open incident holds the same principal',
    )
    .option('--store <where>', 'read the journal from this store when it is not on this machine')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--commander <name>', 'the Incident Commander (journaled with the release; sitreps name them)')
    .option('--responder <name>', 'a responder working the incident (repeatable; journaled)', collectNames)
    .option('--sign-key <file>', 'sign the release record (required when the capture was signed: the same key)')
    .option('--sign-kms-key <arn>', 'sign the release record with this AWS KMS ECC_NIST_P256 key')
    .option('--json', 'NDJSON events and the outcome on stdout');
  addNotifyOptions(cmd, 'the release and the new sitrep');
  cmd
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
      const notifier = notifierFromOptions(opts);
      const signer = signerFromOptions(opts);
      const roles = rolesFromOptions(opts);
      const outcome = await releaseContainment({
        incident,
        ...(signer ? { signer } : {}),
        providers,
        restoreProtection: Boolean(opts.restoreProtection),
        restoreCredentials: Boolean(opts.restoreCredentials),
        dryRun: Boolean(opts.dryRun),
        readopt: Boolean(opts.readopt),
        ...(roles ? { roles } : {}),
        ...(store ? { store } : {}),
        ...(typeof opts.stateDir === 'string' ? { stateDir: opts.stateDir } : {}),
        onEvent: (e) => {
          out.data(e);
          const line = describeEvent(e);
          if (line) out.say(line);
        },
      });
      if (outcome.wouldRestore) {
        out.data({ type: 'outcome', ...outcome });
        for (const c of outcome.wouldRestore)
          out.say(
            `  would restore ${c.resource} ${c.attribute}: ${JSON.stringify(c.after)} → ${JSON.stringify(c.before)}`,
          );
        for (const l of outcome.wouldLeave ?? [])
          out.say(`  would leave ${l.change.resource} ${l.change.attribute} alone: ${l.note}`);
        for (const p of outcome.predictions ?? []) out.say(`  predicted: ${p}`);
        const leave = outcome.wouldLeave?.length ?? 0;
        out.say(
          `release dry run: ${outcome.wouldRestore.length} changes would be undone${leave ? `, ${leave} left alone (why above)` : ''} (each judged again when run); nothing was changed`,
        );
        return;
      }
      if (outcome.status === 'nothing-to-release')
        out.say(
          `release ${incident}: nothing to release — no containment is recorded, or all of it was already released`,
        );
      else {
        // Every change is counted: restored, left alone (with why) or failed; none silently.
        for (const l of outcome.leftAlone)
          out.say(`  left alone: ${l.change.resource} ${l.change.attribute} — ${l.note}`);
        out.say(
          `release ${outcome.status}: ${outcome.restored.length} restored, left alone: ${outcome.leftAlone.length}${outcome.leftAlone.length ? ' (why above)' : ''}, ${outcome.failed.length} failed`,
        );
      }
      // Roles given with nothing to release are journaled on their own, sealed the same way.
      if (roles && outcome.status === 'nothing-to-release')
        await recordIncidentRoles({
          incident,
          roles,
          ...(store ? { store } : {}),
          ...(signer ? { signer } : {}),
          ...(typeof opts.stateDir === 'string' ? { stateDir: opts.stateDir } : {}),
        });
      // Containment lifted is news for the channel that was told it was in place.
      await reportSitrep(incident, outcome.journalPath, out, {
        ...(notifier ? { notifier } : {}),
        json: {
          type: 'release',
          status: outcome.status,
          restored: outcome.restored.length,
          leftAlone: outcome.leftAlone.length,
          failed: outcome.failed.length,
          notes: outcome.notes,
        },
        note: `Release ${outcome.status}: ${outcome.restored.length} changes restored, ${outcome.leftAlone.length} left alone, ${outcome.failed.length} failed.`,
        what: 'release',
      });
      // The outcome stays the last line a script reads.
      out.data({ type: 'outcome', ...outcome });
      process.exitCode = outcome.failed.length ? EXIT.partial : EXIT.ok;
    });
}
