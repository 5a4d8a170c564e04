/** `evidence apply plan.json`: execute exactly a saved plan. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BadInputError, fsFailureReason } from '../../core/errors.js';
import { publicKeyFingerprint } from '../../evidence/signing.js';
import { assertSignedPlan, assertUsablePlan } from '../../engine/saved-plan.js';
import type { Provider } from '../../core/types.js';
import { createOutput } from '../output.js';
import { addRunOptions, runOptionsFrom, runPlanFromCli } from '../run-plan.js';

/** Register `apply`. */
export function registerApplyCommand(program: Command, providers: readonly Provider[]): void {
  const cmd = program
    .command('apply')
    .description('execute exactly the steps of a plan saved by `evidence plan --out`')
    .argument('<plan>', 'plan JSON file')
    .addHelpText(
      'after',
      '\nExamples:\n  evidence plan --incident IR-2026-0042 --instance i-0abc123def4567890 --out plan.json && evidence apply plan.json\n  evidence apply plan.json --require-signed --public-key reviewer.key.pub',
    )
    .option('--require-signed', 'refuse a plan without a valid signature (`evidence plan --sign-key`)')
    .option('--public-key <file>', "with --require-signed: only a signature by this public key (PEM), the reviewer's");
  addRunOptions(cmd).action(async (file: string, opts: Record<string, unknown>) => {
    const out = createOutput(Boolean(opts.json));
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      // Where it looked and why it could not read there, in words, never a bare errno.
      throw new BadInputError(
        `plan ${file}: cannot read ${resolve(file)}: ${fsFailureReason(error)}; save one with \`evidence plan … --out ${file}\``,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new BadInputError(`plan ${file}: not valid JSON (${(error as Error).message})`);
    }
    const plan = assertUsablePlan(value, providers, `plan ${file}`);
    if (opts.publicKey !== undefined && !opts.requireSigned)
      throw new BadInputError('--public-key pins the plan signer: give --require-signed too');
    // A signature that is there must hold even when none is required: a failing one means an edit.
    if (opts.requireSigned || plan.signature) {
      const publicKeyPem = typeof opts.publicKey === 'string' ? readPublicKey(opts.publicKey) : undefined;
      out.say(assertSignedPlan(plan, publicKeyPem ? { publicKeyPem } : {}, `plan ${file}`));
    }
    process.exitCode = await runPlanFromCli(plan, out, runOptionsFrom(opts, providers, plan.case.region));
  });
}

/** A PEM public key file, or bad input naming --public-key. */
function readPublicKey(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BadInputError(`--public-key ${path}: ${(error as NodeJS.ErrnoException).code ?? 'cannot read'}`);
  }
  try {
    publicKeyFingerprint(pem);
  } catch {
    throw new BadInputError(`--public-key ${path}: not a PEM public key`);
  }
  return pem;
}
