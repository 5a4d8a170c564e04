/**
 * The one table from the library's input names (case paths such as `targets.ec2.instances[0]`,
 * options such as `concurrency`) to this CLI's flags. The library's errors name case fields; only
 * here do they become `--instance` and friends. Provider flags come from each provider's `flags`
 * declaration, so a new provider adds its flags in one place.
 */
import { BadInputError, HoldfastError, type InputProblem } from '../core/errors.js';
import type { CaseInput } from '../engine/case.js';
import type { Provider } from '../core/types.js';

/** Case fields given by a flag of `capture` and `plan`; `targets` comes from the providers' flags. */
export const CASE_FLAGS: Readonly<Record<Exclude<keyof CaseInput, 'targets'>, string>> = {
  incident: '--incident',
  severity: '--severity',
  approveContainment: '--approve-containment',
  contain: '--no-contain',
  forensicCidrs: '--forensic-cidr',
  forensicAccess: '--no-forensic-access',
  forensicPorts: '--forensic-ports',
  join: '--join',
  region: '--region',
  assumeRole: '--assume-role',
  connectTimeout: '--connect-timeout',
  requestTimeout: '--request-timeout',
  store: '--store',
  retainDays: '--retain-days',
  retentionMode: '--retention-mode',
  legalHold: '--legal-hold',
  allowUnlockedStore: '--allow-unlocked-store',
  commander: '--commander',
  responders: '--responder',
};

/** Library options (executePlan, releaseContainment, verifyEvidence) that a flag sets. */
const OPTION_FLAGS: Readonly<Record<string, string>> = {
  concurrency: '--concurrency',
  stateDir: '--state-dir',
  signer: '--sign-key or --sign-kms-key',
  // evidence watch
  queue: '--queue',
  queues: '--queue',
  rules: '--rules',
  listen: '--listen',
  visibilityTimeout: '--visibility-timeout',
  messages: '--messages',
  lease: '--lease',
  leaseSeconds: '--lease-seconds',
};

/** The first word of a commander flag spec: '--instance <id>' → '--instance'. */
function flagName(spec: string): string {
  return spec.split(/[ ,]/)[0] ?? spec;
}

/** Case path or option name (list indices dropped) → the flag, or a provider's id for `targets.<id>`. */
export function inputNames(providers: readonly Provider[]): ReadonlyMap<string, string> {
  const names = new Map<string, string>([...Object.entries(CASE_FLAGS), ...Object.entries(OPTION_FLAGS)]);
  for (const provider of providers) {
    names.set(`targets.${provider.id}`, provider.id);
    for (const flag of provider.flags) names.set(`targets.${provider.id}.${flag.param}`, flagName(flag.flags));
  }
  return names;
}

/** How the CLI says one problem: the field as its flag, and any case path inside the message as its flag too. */
export function renderProblem(p: InputProblem, names: ReadonlyMap<string, string>): string {
  const message = flagsInText(p.message, names);
  if (!p.field) return message;
  const name = names.get(p.field.replace(/\[\d+\]/g, '')) ?? p.field;
  return `${name}${p.continues ? ' ' : ': '}${message}`;
}

/**
 * Names inside a message as flags: any case path under `targets.` a flag sets (longest first, whole
 * paths only), and any other input name the library quotes in backticks (`` `store` `` → --store).
 */
function flagsInText(text: string, names: ReadonlyMap<string, string>): string {
  const quoted = text.replace(/`([\w.]+)`/g, (whole, name: string) => {
    const flag = names.get(name);
    return flag?.startsWith('--') ? flag : whole;
  });
  return quoted.includes('targets.') ? pathsAsFlags(quoted, names) : quoted;
}

function pathsAsFlags(text: string, names: ReadonlyMap<string, string>): string {
  const paths = [...names]
    .filter(([path, flag]) => path.startsWith('targets.') && flag.startsWith('--'))
    .sort(([a], [b]) => b.length - a.length);
  let out = text;
  for (const [path, flag] of paths)
    out = out.replace(new RegExp(`${path.replace(/\./g, '\\.')}(?![\\w.[])`, 'g'), flag);
  return out;
}

/** An error's full text as the CLI prints it: bad input names flags, not case paths. */
export function cliErrorText(error: Error & { fullMessage: string }, names: ReadonlyMap<string, string>): string {
  return error instanceof BadInputError
    ? error.fullMessageWith((p) => renderProblem(p, names))
    : flagsInText(error.fullMessage, names);
}

/**
 * An error as one JSON line for bots (`--json`): a stable `code` (the error class's), the `field` it
 * concerns (the library's name; `flag` is the CLI's) and the `message`; every problem of bad input.
 */
export function errorJsonLine(error: unknown, names: ReadonlyMap<string, string>): Record<string, unknown> {
  const flagOf = (field: string) => names.get(field.replace(/\[\d+\]/g, ''));
  if (error instanceof BadInputError) {
    const problems = error.problems.map((p) => ({
      field: p.field,
      ...(flagOf(p.field) ? { flag: flagOf(p.field) } : {}),
      message: p.message,
    }));
    return {
      type: 'error',
      code: error.code,
      field: problems[0]?.field ?? '',
      ...(problems[0]?.flag ? { flag: problems[0].flag } : {}),
      message: cliErrorText(error, names),
      problems,
    };
  }
  if (error instanceof HoldfastError) {
    const extra = error as HoldfastError & { action?: string; policyFile?: string; path?: string; command?: string };
    return {
      type: 'error',
      code: error.code,
      field: extra.path ?? '',
      message: error.message,
      ...(extra.action ? { action: extra.action } : {}),
      ...(extra.policyFile ? { policyFile: extra.policyFile } : {}),
    };
  }
  return { type: 'error', code: 'INTERNAL', field: '', message: String((error as Error)?.message ?? error) };
}
