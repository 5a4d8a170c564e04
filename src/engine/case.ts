/**
 * Parse flags, a YAML/JSON case file or a library object into one validated Case. Every problem is
 * reported at once, each naming its input; nothing is touched before this passes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { forensicCidrProblem, parsePortRanges } from '../core/cidr.js';
import { BadInputError } from '../core/errors.js';
import type { Case, JsonObject, PortRange, Provider, Severity, StoreSpec } from '../core/types.js';
import { SEVERITIES } from '../core/types.js';
import { cloudSettingProblems } from './registry.js';

/** Incident ids become tags, S3 keys and RDS identifiers, so they take the strictest of those charsets. */
export const INCIDENT_ID_PATTERN = /^[A-Za-z][A-Za-z0-9-]{2,39}$/;
export const MAX_INCIDENT_ID_LENGTH = 40;
export const DEFAULT_RETAIN_DAYS = 365;
export const MAX_RETAIN_DAYS = 36_500;
export const DEFAULT_STORE_DIR = 'evidence-store';
const S3_BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** What a caller may give: flags, a case file and library objects all reduce to this. */
export interface CaseInput {
  incident?: unknown;
  severity?: unknown;
  approveContainment?: unknown;
  contain?: unknown;
  forensicCidrs?: unknown;
  forensicPorts?: unknown;
  region?: unknown;
  assumeRole?: unknown;
  connectTimeout?: unknown;
  requestTimeout?: unknown;
  store?: unknown;
  retainDays?: unknown;
  retentionMode?: unknown;
  legalHold?: unknown;
  allowUnlockedStore?: unknown;
  targets?: unknown;
}

const CASE_FIELDS: Record<keyof CaseInput, string> = {
  incident: '--incident',
  severity: '--severity',
  approveContainment: '--approve-containment',
  contain: '--no-contain',
  forensicCidrs: '--forensic-cidr',
  forensicPorts: '--forensic-ports',
  region: '--region',
  assumeRole: '--assume-role',
  connectTimeout: '--connect-timeout',
  requestTimeout: '--request-timeout',
  store: '--store',
  retainDays: '--retain-days',
  retentionMode: '--retention-mode',
  legalHold: '--legal-hold',
  allowUnlockedStore: '--allow-unlocked-store',
  targets: 'targets',
};

/** Problems with an incident id, or empty. */
export function incidentProblems(incident: unknown, name = '--incident'): string[] {
  if (incident === undefined || incident === '') return [`${name} is required (e.g. --incident IR-2026-0042)`];
  if (typeof incident !== 'string') return [`${name} must be a string`];
  if (incident.length > MAX_INCIDENT_ID_LENGTH)
    return [`${name} "${incident}" is longer than ${MAX_INCIDENT_ID_LENGTH} characters`];
  if (!INCIDENT_ID_PATTERN.test(incident) || incident.includes('--') || incident.endsWith('-')) {
    return [
      `${name} "${incident}" must start with a letter and use only letters, digits and single hyphens (it becomes tags, S3 keys and snapshot ids)`,
    ];
  }
  return [];
}

/** Throw BadInputError listing every problem when the incident id is unusable. */
export function assertIncidentId(incident: unknown, name = '--incident'): string {
  const problems = incidentProblems(incident, name);
  if (problems.length) throw new BadInputError(`${problems[0]}`, { details: problems.slice(1) });
  return incident as string;
}

function asStringList(value: unknown, name: string, problems: string[]): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string' || item.trim() === '')
      problems.push(`${name}: expected text, got ${JSON.stringify(item)}`);
    else
      out.push(
        ...item
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
  }
  return out;
}

/** Longest timeout accepted, in seconds: beyond this a stuck call is not "bounded" in any useful sense. */
export const MAX_TIMEOUT_SECONDS = 600;

function asSeconds(value: unknown, name: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
    problems.push(
      `${name}: expected seconds, more than 0 and at most ${MAX_TIMEOUT_SECONDS}, got ${JSON.stringify(value)}`,
    );
    return undefined;
  }
  return n;
}

function asBoolean(value: unknown, name: string, problems: string[], fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  problems.push(`${name}: expected true or false, got ${JSON.stringify(value)}`);
  return fallback;
}

/** Parse a store reference: `s3://bucket/prefix` or a local directory. */
export function parseStoreSpec(input: CaseInput, problems: string[], cwd: string): StoreSpec {
  const store = input.store ?? DEFAULT_STORE_DIR;
  const retainRaw = input.retainDays ?? DEFAULT_RETAIN_DAYS;
  const retainDays = typeof retainRaw === 'string' && /^\d+$/.test(retainRaw) ? Number(retainRaw) : retainRaw;
  const mode = input.retentionMode ?? 'COMPLIANCE';
  if (typeof store !== 'string' || store === '') {
    problems.push('--store: expected s3://bucket/prefix or a directory');
    return { kind: 'fs', dir: resolve(cwd, DEFAULT_STORE_DIR) };
  }
  if (!store.startsWith('s3://')) {
    for (const field of ['retainDays', 'retentionMode', 'legalHold'] as const) {
      if (input[field] !== undefined) problems.push(`${CASE_FIELDS[field]} applies only to an s3:// store`);
    }
    return { kind: 'fs', dir: resolve(cwd, store) };
  }
  const [bucket = '', ...rest] = store.slice('s3://'.length).split('/');
  const prefix = rest.filter(Boolean).join('/');
  if (!S3_BUCKET_PATTERN.test(bucket) || bucket.includes('..'))
    problems.push(`--store: "${bucket}" is not a valid S3 bucket name`);
  if (prefix && !/^[A-Za-z0-9!_.*'()/-]+$/.test(prefix))
    problems.push(`--store: prefix "${prefix}" has characters unsafe in S3 keys`);
  if (
    typeof retainDays !== 'number' ||
    !Number.isInteger(retainDays) ||
    retainDays < 1 ||
    retainDays > MAX_RETAIN_DAYS
  ) {
    problems.push(
      `--retain-days: expected a whole number of days from 1 to ${MAX_RETAIN_DAYS}, got ${JSON.stringify(retainRaw)}`,
    );
  }
  const retentionMode = typeof mode === 'string' ? mode.toUpperCase() : mode;
  if (retentionMode !== 'COMPLIANCE' && retentionMode !== 'GOVERNANCE') {
    problems.push(`--retention-mode: expected COMPLIANCE or GOVERNANCE, got ${JSON.stringify(mode)}`);
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    retainDays: typeof retainDays === 'number' ? retainDays : DEFAULT_RETAIN_DAYS,
    retentionMode: retentionMode === 'GOVERNANCE' ? 'GOVERNANCE' : 'COMPLIANCE',
    legalHold: asBoolean(input.legalHold, '--legal-hold', problems, false),
    allowUnlocked: asBoolean(input.allowUnlockedStore, '--allow-unlocked-store', problems, false),
  };
}

/** Validate a case input against the registered providers; throws BadInputError with every problem. */
export function parseCase(input: CaseInput, providers: readonly Provider[], options: { cwd?: string } = {}): Case {
  const problems: string[] = [];
  const cwd = options.cwd ?? process.cwd();
  if (input === null || typeof input !== 'object') throw new BadInputError('the case must be an object');

  for (const key of Object.keys(input)) {
    if (!(key in CASE_FIELDS)) problems.push(`unknown case field "${key}"`);
  }
  problems.push(...incidentProblems(input.incident));

  const severity = (input.severity ?? 'high') as Severity;
  if (!SEVERITIES.includes(severity))
    problems.push(`--severity: expected high, medium or low, got ${JSON.stringify(input.severity)}`);

  const forensicCidrs = asStringList(input.forensicCidrs, '--forensic-cidr', problems);
  for (const cidr of forensicCidrs) {
    const problem = forensicCidrProblem(cidr);
    if (problem) problems.push(`--forensic-cidr ${problem}`);
  }

  let forensicPorts: PortRange[] | undefined;
  if (input.forensicPorts !== undefined) {
    const text = asStringList(input.forensicPorts, '--forensic-ports', problems).join(',');
    const parsed = parsePortRanges(text);
    problems.push(...parsed.problems.map((p) => `--forensic-ports ${p}`));
    forensicPorts = parsed.ranges;
  }

  // Region and role belong to a cloud: its credential kit checks them (engine/registry.ts).
  const { region, assumeRole } = input;
  problems.push(...cloudSettingProblems({ region, assumeRole }));

  const connectTimeout = asSeconds(input.connectTimeout, '--connect-timeout', problems);
  const requestTimeout = asSeconds(input.requestTimeout, '--request-timeout', problems);

  const store = parseStoreSpec(input, problems, cwd);
  const targets = parseTargets(input.targets, providers, problems);

  if (problems.length) throw new BadInputError(problems);
  return {
    incident: input.incident as string,
    severity,
    approveContainment: asBoolean(input.approveContainment, '--approve-containment', problems, false),
    contain: asBoolean(input.contain, '--no-contain', problems, true),
    forensicCidrs,
    ...(forensicPorts ? { forensicPorts } : {}),
    ...(typeof region === 'string' ? { region } : {}),
    ...(typeof assumeRole === 'string' ? { assumeRole } : {}),
    ...(connectTimeout !== undefined ? { connectTimeout } : {}),
    ...(requestTimeout !== undefined ? { requestTimeout } : {}),
    store,
    targets,
  };
}

function parseTargets(raw: unknown, providers: readonly Provider[], problems: string[]): Record<string, JsonObject> {
  const targets: Record<string, JsonObject> = {};
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    problems.push('targets: expected an object keyed by provider id');
    return targets;
  }
  const given = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!providers.some((p) => p.id === key)) {
      problems.push(`targets.${key}: no such provider (known: ${providers.map((p) => p.id).join(', ')})`);
    }
  }
  for (const provider of providers) {
    const params = given[provider.id];
    if (params === undefined) continue;
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      problems.push(`targets.${provider.id}: expected an object`);
      continue;
    }
    const result = provider.parseParams(params as JsonObject);
    problems.push(...result.problems);
    if (result.params && !result.problems.length) targets[provider.id] = result.params;
  }
  if (!Object.keys(targets).length && !problems.length) {
    const flags = providers.flatMap((p) => p.flags.filter((f) => f.target).map((f) => f.flags.split(' ')[0]));
    problems.push(`no targets: give at least one of ${flags.join(', ') || '(no providers registered)'}`);
  }
  return targets;
}

/** Read a YAML or JSON case file into a CaseInput; problems name the file. */
export function readCaseFile(path: string): CaseInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BadInputError(`--case ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new BadInputError(`--case ${path}: not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadInputError(`--case ${path}: expected a mapping of case fields`);
  }
  return value as CaseInput;
}
