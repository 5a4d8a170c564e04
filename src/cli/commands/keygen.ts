/** `evidence keygen --out FILE`: a local Ed25519 signing key (private 0600, public beside it). */
import type { Command } from 'commander';
import { BadInputError } from '../../core/errors.js';
import { generateSigningKey } from '../../evidence/signing.js';
import { createOutput } from '../output.js';

/** Register `keygen`. */
export function registerKeygenCommand(program: Command): void {
  program
    .command('keygen')
    .description('make an Ed25519 key pair for signing manifests (--sign-key)')
    .option('--out <file>', 'private key path; the public key is written to <file>.pub')
    .option('--json', 'paths and fingerprint as JSON on stdout')
    .addHelpText(
      'after',
      '\nExample:\n  evidence keygen --out ~/.holdfast/signing.key && evidence capture … --sign-key ~/.holdfast/signing.key',
    )
    .action((opts: Record<string, unknown>) => {
      const out = createOutput(Boolean(opts.json));
      if (typeof opts.out !== 'string') throw new BadInputError('--out <file> is required');
      const made = generateSigningKey(opts.out);
      out.data({ type: 'keygen', ...made });
      out.say(
        `private key ${made.privateKey} (mode 600), public key ${made.publicKey}, fingerprint ${made.fingerprint}`,
      );
    });
}
