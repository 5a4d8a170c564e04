/** `evidence verify`: re-hash every artifact and check the journal chain and the seal; exit 5 on any mismatch. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { assertIncidentId } from '../../engine/case.js';
import { storeFromSpec, storeSpecFromOption } from '../store-option.js';
import { BadInputError, IntegrityError } from '../../core/errors.js';
import { appendCustody } from '../../evidence/custody.js';
import { verifyEvidence } from '../../evidence/verify.js';
import { STATE_DIR_HELP } from '../run-plan.js';
import { createOutput } from '../output.js';
import { findIncidentStore } from '../../engine/incident-store.js';
import { journalPath, resolveStateDir } from '../../engine/state-dir.js';
import { finishInterruptedSeal } from '../../engine/seal.js';
import { heldEvidenceChecker } from '../../engine/held-evidence.js';
import { signerFromOptions } from '../signer-options.js';
import { exitCodeForVerify } from '../exit-codes.js';

/** Register `verify`. */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      're-read every artifact from the store, re-hash it, and check the journal chain, every seal, signature, platform-held snapshot and the custody log',
    )
    .argument(
      '[folder]',
      'a downloaded evidence folder to verify offline (instead of --store); nothing is written to it unless --record-custody',
    )
    .option('--incident <id>', 'incident id')
    .option(
      '--store <where>',
      'evidence store: s3://bucket/prefix or a directory (default: the one the capture recorded); a directory given here is not written to unless --record-custody',
    )
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--region <region>', 'AWS region of the bucket')
    .option('--public-key <file>', 'trust only signatures by this public key (PEM)')
    .option('--require-signature', 'fail when a seal is not signed')
    .option(
      '--hash-snapshots',
      'also read every EBS snapshot through the EBS direct APIs, hash its whole volume image and compare the hash capture --hash-snapshots recorded (slow: every written block is read)',
    )
    .option('--offline', 'do not check platform-held evidence (snapshots) online; each is reported "not checked"')
    .option('--no-custody', 'do not append a custody-log entry to the store (e.g. read-only access)')
    .option('--record-custody', 'append a custody-log entry even when verifying a folder (positional or --store)')
    .option('--sign-key <file>', 'sign your custody-log entry with this Ed25519 key')
    .option('--sign-kms-key <arn>', 'sign your custody-log entry with this AWS KMS ECC_NIST_P256 key')
    .option('--json', 'the report as JSON on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  evidence verify --incident IR-2026-0042\n  evidence verify --incident IR-2026-0042 --store s3://ir-evidence/cases\n  evidence verify --incident IR-2026-0042 ./downloaded-evidence --public-key responder.pub',
    )
    .action(async (folder: string | undefined, opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      const incident = assertIncidentId(opts.incident);
      if (folder && (!existsSync(folder) || !statSync(folder).isDirectory()))
        throw new BadInputError(`${folder} is not a folder`);
      const region = typeof opts.region === 'string' ? opts.region : undefined;
      const stateDir = resolveStateDir(opts.stateDir as string | undefined);
      // Without --store, the store this machine's capture recorded for the incident, else the default folder.
      const recorded =
        folder === undefined && opts.store === undefined ? findIncidentStore(stateDir, incident) : undefined;
      const spec = recorded ? recorded.spec : storeSpecFromOption(folder ?? opts.store);
      const store = storeFromSpec(spec, recorded ? (region ?? recorded.region) : region);
      // A folder named here (positional or --store) is an examiner's copy: nothing is written to it
      // unless asked. The capture's own store (recorded) and S3 get the custody entry.
      const writable = opts.recordCustody === true || !(spec.kind === 'fs' && !recorded);
      const lookedIn = [
        ...(folder === undefined && opts.store === undefined
          ? [recorded ? `${recorded.path} (recorded store)` : `${stateDir} (no store recorded for ${incident})`]
          : []),
        store.description,
      ];
      let publicKeyPem: string | undefined;
      if (typeof opts.publicKey === 'string') {
        try {
          publicKeyPem = readFileSync(opts.publicKey, 'utf8');
        } catch {
          throw new BadInputError(`--public-key ${opts.publicKey}: cannot read`);
        }
      }
      const signer = signerFromOptions(opts, region);
      // A run killed while sealing is finished first, as the next capture would (under the lock):
      // otherwise the store lacks the journal copy the last seal names.
      if (writable) {
        const finished = await finishInterruptedSeal(journalPath(stateDir, incident), incident, store);
        for (const line of [...finished.completed, ...finished.unfinished]) out.say(`note: ${line}`);
      }
      // A folder someone handed over is examined offline; a live store's snapshots are checked online.
      const online = folder === undefined && !opts.offline;
      let report;
      try {
        report = await verifyEvidence(store, incident, {
          ...(publicKeyPem ? { publicKeyPem } : {}),
          requireSignature: Boolean(opts.requireSignature),
          ...(online
            ? { checkHeld: heldEvidenceChecker(store, incident, { hashSnapshots: Boolean(opts.hashSnapshots) }) }
            : {}),
        });
      } catch (error) {
        // Only "no journal for the incident" is answered with where verify looked; a store problem speaks for itself.
        if (error instanceof BadInputError && error.problems.some((p) => p.field === 'incident'))
          throw new BadInputError(`--incident ${incident}: no journal for this incident; looked in:`, {
            details: lookedIn,
          });
        throw error;
      }
      // Verifying touches the evidence: the custody log records who did it and what they found. An
      // examiner's folder is not written to unless asked.
      const custody =
        writable && opts.custody !== false
          ? await appendCustody(
              store,
              incident,
              'verify',
              { ok: report.ok, failed: report.items.filter((i) => i.status === 'failed').map((i) => i.id) },
              signer ? { signer } : {},
            )
          : {};
      out.data({ type: 'verify', ...report, ...(custody.key ? { custodyKey: custody.key } : {}) });
      if (custody.error) out.say(`note: could not append to the custody log (${custody.error})`);
      out.say(`verify ${incident} in ${store.description}:`);
      const mark = { ok: 'ok  ', failed: 'FAIL', 'could-not-check': 'ERR ', 'not-checked': 'n/c ' } as const;
      for (const item of report.items)
        out.say(`  ${mark[item.status]} ${item.kind.padEnd(9)} ${item.id}  ${item.detail}`);
      if (report.couldNotCheck)
        out.say(
          `${report.couldNotCheck} ${report.couldNotCheck === 1 ? 'check' : 'checks'} could not be made (ERR above): an error, not a finding — fix what each names and run verify again`,
        );
      if (!report.ok) {
        const failed = report.items.filter((i) => i.status === 'failed').map((i) => `${i.kind} ${i.id}: ${i.detail}`);
        throw new IntegrityError(`integrity check failed for ${incident}: ${failed.length} item(s)`, {
          details: failed,
        });
      }
      const checked = report.items.length - report.notChecked - report.couldNotCheck;
      out.say(
        `${report.couldNotCheck ? '' : 'all '}${checked} checks passed${report.couldNotCheck ? `, none failed; ${report.couldNotCheck} could not be made` : ''}${report.notChecked ? `; ${report.notChecked} not checked (n/c above: offline, or versions a folder cannot show)` : ''}`,
      );
      process.exitCode = exitCodeForVerify(report);
    });
}
