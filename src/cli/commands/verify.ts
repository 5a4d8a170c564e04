/** `evidence verify`: re-hash every artifact and check the journal chain and the seal; exit 5 on any mismatch. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { assertIncidentId } from '../../engine/case.js';
import { storeFromOption, storeFromSpec } from '../store-option.js';
import { BadInputError, IntegrityError } from '../../core/errors.js';
import { appendCustody } from '../../evidence/custody.js';
import { verifyEvidence } from '../../evidence/verify.js';
import { STATE_DIR_HELP } from '../run-plan.js';
import { createOutput } from '../output.js';
import { findIncidentStore } from '../../engine/incident-store.js';
import { resolveStateDir } from '../../engine/state-dir.js';

/** Register `verify`. */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('re-read every artifact from the store, re-hash it, and check the journal chain and the manifest seal')
    .argument('[folder]', 'a downloaded evidence folder to verify offline (instead of --store)')
    .option('--incident <id>', 'incident id')
    .option(
      '--store <where>',
      'evidence store: s3://bucket/prefix or a directory (default: the one the capture recorded)',
    )
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--region <region>', 'AWS region of the bucket')
    .option('--public-key <file>', 'trust only signatures by this public key (PEM)')
    .option('--require-signature', 'fail when the manifest is not signed')
    .option('--no-custody', 'do not append a custody-log entry (e.g. read-only access)')
    .option('--json', 'the report as JSON on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  evidence verify --incident IR-2026-0042 --store s3://ir-evidence/cases\n  evidence verify --incident IR-2026-0042 ./evidence-store',
    )
    .action(async (folder: string | undefined, opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      const incident = assertIncidentId(opts.incident);
      if (folder && (!existsSync(folder) || !statSync(folder).isDirectory()))
        throw new BadInputError(`bad input: ${folder} is not a folder`);
      // Without --store, the store this machine's capture recorded for the incident.
      const recorded =
        folder === undefined && opts.store === undefined
          ? findIncidentStore(resolveStateDir(opts.stateDir as string | undefined), incident)
          : undefined;
      const region = typeof opts.region === 'string' ? opts.region : undefined;
      const store = recorded
        ? storeFromSpec(recorded.spec, region ?? recorded.region)
        : storeFromOption(folder ?? opts.store, region);
      let publicKeyPem: string | undefined;
      if (typeof opts.publicKey === 'string') {
        try {
          publicKeyPem = readFileSync(opts.publicKey, 'utf8');
        } catch {
          throw new BadInputError(`bad input: --public-key ${opts.publicKey}: cannot read`);
        }
      }
      const report = await verifyEvidence(store, incident, {
        ...(publicKeyPem ? { publicKeyPem } : {}),
        requireSignature: Boolean(opts.requireSignature),
      });
      // Verifying touches the evidence: the custody log records who did it and what they found.
      const custody =
        opts.custody === false
          ? {}
          : await appendCustody(store, incident, 'verify', {
              ok: report.ok,
              failed: report.items.filter((i) => !i.ok).map((i) => i.id),
            });
      out.data({ type: 'verify', ...report, ...(custody.key ? { custodyKey: custody.key } : {}) });
      if (custody.error) out.say(`note: could not append to the custody log (${custody.error})`);
      out.say(`verify ${incident} in ${store.description}:`);
      for (const item of report.items)
        out.say(`  ${item.ok ? 'ok  ' : 'FAIL'} ${item.kind.padEnd(9)} ${item.id}  ${item.detail}`);
      if (!report.ok) {
        const failed = report.items.filter((i) => !i.ok).map((i) => `${i.kind} ${i.id}: ${i.detail}`);
        throw new IntegrityError(`integrity check failed for ${incident}: ${failed.length} item(s)`, {
          details: failed,
        });
      }
      out.say(`all ${report.items.length} checks passed`);
    });
}
