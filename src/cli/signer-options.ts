/** `--sign-key` / `--sign-kms-key` for commands that seal a manifest. */
import type { Command } from 'commander';
import { addNotifyOptions } from './sitrep-output.js';
import { kmsSigner } from '../../providers/kms-signer/index.js';
import { awsClientConfig } from '../aws/config.js';
import { BadInputError } from '../core/errors.js';
import { localSigner, type Signer } from '../evidence/signing.js';

const KMS_KEY_PATTERN =
  /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/+=,.@-]+|alias\/[\w/+=,.@-]+|[0-9a-f-]{36})$/;

export function addSignerOptions(cmd: Command): Command {
  return addNotifyOptions(
    cmd
      .option('--sign-key <file>', 'sign the manifest with this Ed25519 key (make one with `evidence keygen`)')
      .option('--sign-kms-key <arn>', 'sign the manifest with this AWS KMS ECC_NIST_P256 key'),
    'each phase change and the final sitrep',
  );
}

/** The signer the options ask for, validated before anything runs. */
export function signerFromOptions(opts: Record<string, unknown>, region?: string): Signer | undefined {
  if (opts.signKey && opts.signKmsKey) throw new BadInputError('give --sign-key or --sign-kms-key, not both');
  if (typeof opts.signKey === 'string') {
    try {
      return localSigner(opts.signKey);
    } catch (error) {
      // The library names the key file; here it is the file --sign-key gave.
      if (!(error instanceof BadInputError)) throw error;
      throw new BadInputError(error.problems.map((p) => ({ ...p, field: `--sign-key ${p.field}` })));
    }
  }
  if (typeof opts.signKmsKey === 'string') {
    if (!KMS_KEY_PATTERN.test(opts.signKmsKey))
      throw new BadInputError(`--sign-kms-key "${opts.signKmsKey}" is not a KMS key ARN, alias or id`);
    const kase = region ? { region } : {};
    return kmsSigner(opts.signKmsKey, awsClientConfig({ kase, env: process.env, clients: {} }));
  }
  return undefined;
}
