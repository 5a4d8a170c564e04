/**
 * Parse flags, a YAML/JSON case file or a library object into one validated Case. Every problem is
 * reported at once, each naming its input; nothing is touched before this passes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { forensicCidrProblem, parsePortRanges } from '../core/cidr.js';
import { BadInputError, type InputProblem } from '../core/errors.js';
import { incidentProblems } from '../core/incident-id.js';
import { personNameProblem } from '../core/roles.js';
import type { Case, JsonObject, PortRange, Provider, Severity, StoreSpec } from '../core/types.js';
import { SEVERITIES } from '../core/types.js';
import { cloudSettingProblems } from './registry.js';

export {
  assertIncidentId,
  incidentProblems,
  INCIDENT_ID_PATTERN,
  MAX_INCIDENT_ID_LENGTH,
} from '../core/incident-id.js';

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
  /** false: contain without forensic access (no CIDRs), a decision rather than an omission. */
  forensicAccess?: unknown;
  forensicPorts?: unknown;
  /** The open incident that holds the targets: record its hold instead of refusing (changes none of its work). */
  join?: unknown;
  region?: unknown;
  assumeRole?: unknown;
  connectTimeout?: unknown;
  requestTimeout?: unknown;
  store?: unknown;
  retainDays?: unknown;
  retentionMode?: unknown;
  legalHold?: unknown;
  allowUnlockedStore?: unknown;
  commander?: unknown;
  responders?: unknown;
  targets?: unknown;
}

/** Every field a case may have: an unknown one is named, not ignored. */
const CASE_FIELDS: readonly (keyof CaseInput)[] = [
  'incident',
  'severity',
  'approveContainment',
  'contain',
  'forensicCidrs',
  'forensicAccess',
  'forensicPorts',
  'join',
  'region',
  'assumeRole',
  'connectTimeout',
  'requestTimeout',
  'store',
  'retainDays',
  'retentionMode',
  'legalHold',
  'allowUnlockedStore',
  'commander',
  'responders',
  'targets',
];

/** Text items of a list field, comma-separated parts split out, each with the index it was given at. */
function asStringList(value: unknown, field: string, problems: InputProblem[]): { text: string; at: string }[] {
  if (value === undefined) return [];
  const list: unknown[] = Array.isArray(value) ? value : [value];
  const out: { text: string; at: string }[] = [];
  list.forEach((item, i) => {
    const at = Array.isArray(value) ? `${field}[${i}]` : field;
    if (typeof item !== 'string' || item.trim() === '')
      problems.push({ field: at, message: `expected text, got ${JSON.stringify(item)}` });
    else
      for (const text of item
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean))
        out.push({ text, at });
  });
  return out;
}

/** Longest timeout accepted, in seconds: beyond this a stuck call is not "bounded" in any useful sense. */
export const MAX_TIMEOUT_SECONDS = 600;

function asSeconds(value: unknown, field: string, problems: InputProblem[]): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
    problems.push({
      field,
      message: `expected seconds, more than 0 and at most ${MAX_TIMEOUT_SECONDS}, got ${JSON.stringify(value)}`,
    });
    return undefined;
  }
  return n;
}

function asBoolean(value: unknown, field: string, problems: InputProblem[], fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  problems.push({ field, message: `expected true or false, got ${JSON.stringify(value)}` });
  return fallback;
}

/** Parse a store reference: `s3://bucket/prefix` or a local directory. */
export function parseStoreSpec(input: CaseInput, problems: InputProblem[], cwd: string): StoreSpec {
  const store = input.store ?? DEFAULT_STORE_DIR;
  const retainRaw = input.retainDays ?? DEFAULT_RETAIN_DAYS;
  const retainDays = typeof retainRaw === 'string' && /^\d+$/.test(retainRaw) ? Number(retainRaw) : retainRaw;
  const mode = input.retentionMode ?? 'COMPLIANCE';
  if (typeof store !== 'string' || store === '') {
    problems.push({ field: 'store', message: 'expected s3://bucket/prefix or a directory' });
    return { kind: 'fs', dir: resolve(cwd, DEFAULT_STORE_DIR) };
  }
  if (!store.startsWith('s3://')) {
    for (const field of ['retainDays', 'retentionMode', 'legalHold'] as const) {
      if (input[field] !== undefined)
        problems.push({ field, message: 'applies only to an s3:// store', continues: true });
    }
    return { kind: 'fs', dir: resolve(cwd, store) };
  }
  const [bucket = '', ...rest] = store.slice('s3://'.length).split('/');
  const prefix = rest.filter(Boolean).join('/');
  if (!S3_BUCKET_PATTERN.test(bucket) || bucket.includes('..'))
    problems.push({ field: 'store', message: `"${bucket}" is not a valid S3 bucket name` });
  if (prefix && !/^[A-Za-z0-9!_.*'()/-]+$/.test(prefix))
    problems.push({ field: 'store', message: `prefix "${prefix}" has characters unsafe in S3 keys` });
  if (
    typeof retainDays !== 'number' ||
    !Number.isInteger(retainDays) ||
    retainDays < 1 ||
    retainDays > MAX_RETAIN_DAYS
  ) {
    problems.push({
      field: 'retainDays',
      message: `expected a whole number of days from 1 to ${MAX_RETAIN_DAYS}, got ${JSON.stringify(retainRaw)}`,
    });
  }
  const retentionMode = typeof mode === 'string' ? mode.toUpperCase() : mode;
  if (retentionMode !== 'COMPLIANCE' && retentionMode !== 'GOVERNANCE') {
    problems.push({
      field: 'retentionMode',
      message: `expected COMPLIANCE or GOVERNANCE, got ${JSON.stringify(mode)}`,
    });
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    retainDays: typeof retainDays === 'number' ? retainDays : DEFAULT_RETAIN_DAYS,
    retentionMode: retentionMode === 'GOVERNANCE' ? 'GOVERNANCE' : 'COMPLIANCE',
    legalHold: asBoolean(input.legalHold, 'legalHold', problems, false),
    allowUnlocked: asBoolean(input.allowUnlockedStore, 'allowUnlockedStore', problems, false),
  };
}

/** Validate a case input against the registered providers; throws BadInputError with every problem. */
export function parseCase(input: CaseInput, providers: readonly Provider[], options: { cwd?: string } = {}): Case {
  const problems: InputProblem[] = [];
  const cwd = options.cwd ?? process.cwd();
  if (input === null || typeof input !== 'object') throw new BadInputError('the case must be an object');

  for (const key of Object.keys(input)) {
    if (!(CASE_FIELDS as readonly string[]).includes(key)) problems.push({ field: key, message: 'unknown case field' });
  }
  problems.push(...incidentProblems(input.incident));

  const severity = (input.severity ?? 'high') as Severity;
  if (!SEVERITIES.includes(severity))
    problems.push({
      field: 'severity',
      message: `expected high, medium or low, got ${JSON.stringify(input.severity)}`,
    });

  const forensicCidrs: string[] = [];
  for (const { text, at } of asStringList(input.forensicCidrs, 'forensicCidrs', problems)) {
    const problem = forensicCidrProblem(text);
    if (problem) problems.push({ field: at, message: problem, continues: true });
    else forensicCidrs.push(text);
  }

  const forensicAccess = asBoolean(input.forensicAccess, 'forensicAccess', problems, true);
  if (!forensicAccess && forensicCidrs.length)
    problems.push({
      field: 'forensicAccess',
      message: 'and forensic CIDRs (`forensicCidrs`) are both given: choose one',
      continues: true,
    });

  let forensicPorts: PortRange[] | undefined;
  if (input.forensicPorts !== undefined) {
    const text = asStringList(input.forensicPorts, 'forensicPorts', problems)
      .map((p) => p.text)
      .join(',');
    const parsed = parsePortRanges(text);
    problems.push(...parsed.problems.map((message) => ({ field: 'forensicPorts', message, continues: true })));
    forensicPorts = parsed.ranges;
  }

  if (input.join !== undefined) {
    problems.push(...incidentProblems(input.join, 'join'));
    if (input.join === input.incident)
      problems.push({
        field: 'join',
        message: 'names this incident itself; join another open incident',
        continues: true,
      });
  }

  // Region and role belong to a cloud: its credential kit checks them (engine/registry.ts).
  const { region, assumeRole } = input;
  problems.push(...cloudSettingProblems({ region, assumeRole }));

  const connectTimeout = asSeconds(input.connectTimeout, 'connectTimeout', problems);
  const requestTimeout = asSeconds(input.requestTimeout, 'requestTimeout', problems);

  const { commander, responders } = parseRoles(input, problems);
  const store = parseStoreSpec(input, problems, cwd);
  const targets = parseTargets(input.targets, providers, problems);

  if (problems.length) throw new BadInputError(problems);
  return {
    incident: input.incident as string,
    severity,
    approveContainment: asBoolean(input.approveContainment, 'approveContainment', problems, false),
    contain: asBoolean(input.contain, 'contain', problems, true),
    forensicCidrs,
    ...(forensicAccess ? {} : { forensicAccess: false as const }),
    ...(forensicPorts ? { forensicPorts } : {}),
    ...(typeof input.join === 'string' ? { join: input.join } : {}),
    ...(typeof region === 'string' ? { region } : {}),
    ...(typeof assumeRole === 'string' ? { assumeRole } : {}),
    ...(connectTimeout !== undefined ? { connectTimeout } : {}),
    ...(requestTimeout !== undefined ? { requestTimeout } : {}),
    ...(commander ? { commander } : {}),
    ...(responders.length ? { responders } : {}),
    store,
    targets,
  };
}

/** The Incident Commander and responders a case names, each a checked name (responders: no repeats). */
export function parseRoles(
  input: { commander?: unknown; responders?: unknown },
  problems: InputProblem[],
): { commander?: string; responders: string[] } {
  let commander: string | undefined;
  if (input.commander !== undefined) {
    const problem = typeof input.commander === 'string' ? personNameProblem(input.commander) : 'expected a name (text)';
    if (problem) problems.push({ field: 'commander', message: problem });
    else commander = (input.commander as string).trim();
  }
  const responders: string[] = [];
  const list: unknown[] =
    input.responders === undefined ? [] : Array.isArray(input.responders) ? input.responders : [input.responders];
  list.forEach((item, i) => {
    const field = Array.isArray(input.responders) ? `responders[${i}]` : 'responders';
    const problem = typeof item === 'string' ? personNameProblem(item) : 'expected a name (text)';
    if (problem) problems.push({ field, message: problem });
    else if (!responders.includes((item as string).trim())) responders.push((item as string).trim());
  });
  return { ...(commander ? { commander } : {}), responders };
}

/** A provider's problem as a structured one: plain text (a plug-in's) stays as it is, field ''. */
function providerProblem(p: string | InputProblem): InputProblem {
  return typeof p === 'string' ? { field: '', message: p } : p;
}

function parseTargets(
  raw: unknown,
  providers: readonly Provider[],
  problems: InputProblem[],
): Record<string, JsonObject> {
  const targets: Record<string, JsonObject> = {};
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    problems.push({ field: 'targets', message: 'expected an object keyed by provider id' });
    return targets;
  }
  const given = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!providers.some((p) => p.id === key)) {
      problems.push({
        field: `targets.${key}`,
        message: `no such provider (known: ${providers.map((p) => p.id).join(', ')})`,
      });
    }
  }
  for (const provider of providers) {
    const params = given[provider.id];
    if (params === undefined) continue;
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      problems.push({ field: `targets.${provider.id}`, message: 'expected an object' });
      continue;
    }
    const result = provider.parseParams(params as JsonObject);
    problems.push(...result.problems.map(providerProblem));
    if (result.params && !result.problems.length) targets[provider.id] = result.params;
  }
  if (!Object.keys(targets).length && !problems.length) {
    const fields = providers.flatMap((p) => p.flags.filter((f) => f.target).map((f) => `targets.${p.id}.${f.param}`));
    problems.push({
      field: '',
      message: `no targets: give at least one of ${fields.join(', ') || '(no providers registered)'}`,
    });
  }
  return targets;
}

/** Read a YAML or JSON file's one document; problems name the file (its path is the field). */
export function readYamlFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BadInputError({
      field: path,
      message: `cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    });
  }
  try {
    return parseYaml(text);
  } catch (error) {
    throw new BadInputError({
      field: path,
      message: `not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`,
    });
  }
}

/** Read a YAML or JSON case file into a CaseInput; problems name the file (its path is the field). */
export function readCaseFile(path: string): CaseInput {
  const value = readYamlFile(path);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadInputError({ field: path, message: 'expected a mapping of case fields' });
  }
  return value as CaseInput;
}
