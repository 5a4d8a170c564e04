/** The case flags shared by `capture` and `plan`, plus every provider's own flags. */
import { Command, Option } from 'commander';
import { readCaseFile, type CaseInput } from '../engine/case.js';
import { BadInputError } from '../core/errors.js';
import type { JsonObject, Provider } from '../core/types.js';
import { CASE_FLAGS } from './input-names.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

interface ProviderOptionRef {
  provider: string;
  param: string;
  repeatable: boolean;
  target: boolean;
}

/** Add case and provider options to a command; returns how to turn parsed options into a CaseInput. */
export function addCaseOptions(
  cmd: Command,
  providers: readonly Provider[],
): (opts: Record<string, unknown>) => CaseInput {
  cmd
    .option('--incident <id>', 'incident id, e.g. IR-2026-0042 (becomes tags, keys and snapshot names)')
    .option('--case <file>', 'YAML or JSON case file; flags override its fields')
    .option('--forensic-cidr <cidr>', 'CIDR the isolation still admits (repeatable; /16 or narrower)', collect)
    .option(
      '--no-forensic-access',
      'contain without forensic access: the isolation admits nobody (without it, containment needs --forensic-cidr)',
    )
    .option('--forensic-ports <ports>', 'ports the forensic CIDRs may reach, e.g. 22,443 (default: all)')
    .option(
      '--join <incident>',
      'targets already held by this open incident are recorded as held by it and left as it left them (else refused)',
    )
    .addOption(
      new Option('--severity <level>', 'incident severity; at low, containment waits for approval').choices([
        'high',
        'medium',
        'low',
      ]),
    )
    .option('--approve-containment', 'allow containment at low severity')
    .option('--no-contain', 'preserve and collect only; plan no containment')
    .option('--region <region>', 'AWS region (default: AWS_REGION, then us-east-1)')
    .option('--assume-role <arn>', 'assume this IAM role for every AWS call')
    .option('--connect-timeout <seconds>', 'seconds to connect to an AWS API before the call fails (default 10)')
    .option(
      '--request-timeout <seconds>',
      'seconds an AWS call may send and receive nothing before it fails and is retried (default 60)',
    )
    .option(
      '--store <where>',
      'evidence store: s3://bucket/prefix or a directory (default ./evidence-store, printed as an absolute path)',
    )
    .option('--retain-days <days>', 'Object Lock retention for every stored object (default 365)')
    .addOption(new Option('--retention-mode <mode>', 'Object Lock mode').choices(['COMPLIANCE', 'GOVERNANCE']))
    .option('--legal-hold', 'also put a legal hold on every stored object')
    .option('--allow-unlocked-store', 'accept an S3 bucket without Object Lock (recorded as a limitation)')
    .option('--commander <name>', 'the Incident Commander (journaled; sitreps name them)')
    .option('--responder <name>', 'a responder working the incident (repeatable; journaled)', collect);

  const refs = new Map<string, ProviderOptionRef>();
  for (const provider of providers) {
    for (const flag of provider.flags) {
      const option = new Option(flag.flags, `${flag.description} [${provider.id}]`);
      if (flag.repeatable) option.argParser(collect);
      cmd.addOption(option);
      refs.set(option.attributeName(), {
        provider: provider.id,
        param: flag.param,
        repeatable: Boolean(flag.repeatable),
        target: Boolean(flag.target),
      });
    }
  }

  return (opts) => {
    const fromFile: CaseInput = typeof opts.case === 'string' ? caseFile(opts.case) : {};
    const given = (name: string) => {
      const source = cmd.getOptionValueSource(name);
      return source === 'cli' || source === 'env';
    };
    const input: CaseInput = { ...fromFile };
    for (const [field, flag] of Object.entries(CASE_FLAGS)) {
      const attr = new Option(flag).attributeName();
      if (given(attr)) input[field as keyof CaseInput] = opts[attr];
    }

    const targets: Record<string, JsonObject> = { ...((fromFile.targets as Record<string, JsonObject>) ?? {}) };
    // Target flags engage a provider; its other flags only refine a provider already engaged.
    const ordered = [...refs].sort(([, a], [, b]) => Number(b.target) - Number(a.target));
    for (const [attr, ref] of ordered) {
      if (!given(attr) || (!ref.target && !targets[ref.provider])) continue;
      const current = { ...(targets[ref.provider] ?? {}) };
      const value = opts[attr] as JsonObject[string];
      current[ref.param] =
        ref.repeatable && Array.isArray(current[ref.param])
          ? [...(current[ref.param] as string[]), ...(value as string[])]
          : value;
      targets[ref.provider] = current;
    }
    if (Object.keys(targets).length) input.targets = targets;
    return input;
  };
}

/** The case file `--case` names; its problems say `--case <path>`. */
function caseFile(path: string): CaseInput {
  try {
    return readCaseFile(path);
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error;
    throw new BadInputError(error.problems.map((p) => ({ ...p, field: `--case ${p.field}` })));
  }
}
