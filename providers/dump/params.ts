/** Dump targets: database URLs without passwords, and where the password comes from. */
import { valueProblem, type InputProblem } from '../../src/core/errors.js';
import { paramReader } from '../../src/core/provider-kit.js';
import type { JsonObject, ProviderFlag } from '../../src/core/types.js';

export type DumpEngine = 'postgres' | 'mariadb';

export interface DumpTarget extends JsonObject {
  engine: DumpEngine;
  host: string;
  port: number;
  user: string;
  database: string;
  /** The URL as given, password-free. */
  url: string;
  /** This database's own password source (case file); otherwise the shared flags apply. */
  passwordEnv: string | null;
  passwordFile: string | null;
}

export interface DumpParams extends JsonObject {
  targets: DumpTarget[];
  passwordEnv: string | null;
  passwordFile: string | null;
  serializableDeferrable: boolean;
  lockWaitTimeout: string;
}

export const DEFAULT_LOCK_WAIT_TIMEOUT = '30s';
const DEFAULT_PORTS: Record<DumpEngine, number> = { postgres: 5432, mariadb: 3306 };
const SCHEMES: Record<string, DumpEngine> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mariadb',
  mariadb: 'mariadb',
};

export const dumpFlags: ProviderFlag[] = [
  {
    flags: '--dump <url>',
    description:
      'logical dump of postgres://user@host:port/db or mysql://user@host:port/db (no password in the URL; repeatable)',
    param: 'urls',
    repeatable: true,
    target: true,
  },
  {
    flags: '--dump-password-env <name>',
    description:
      'environment variable holding the database password (for every --dump; a case file can give each database its own)',
    param: 'passwordEnv',
  },
  {
    flags: '--dump-password-file <path>',
    description: 'file holding the database password (one line)',
    param: 'passwordFile',
  },
  {
    flags: '--serializable-deferrable',
    description: 'pg_dump --serializable-deferrable (waits for a safe snapshot)',
    param: 'serializableDeferrable',
    boolean: true,
  },
  {
    flags: '--lock-wait-timeout <duration>',
    description: 'how long pg_dump waits for table locks (default 30s)',
    param: 'lockWaitTimeout',
  },
];

/**
 * Parse one URL; the problem (which begins with the URL, so it continues the field's name) never
 * repeats a password that was in it.
 */
export function parseDumpUrl(text: string): { target?: DumpTarget; problem?: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      problem: `"${text.replace(/:[^:@/]*@/, ':***@')}" is not a URL (expected postgres://user@host:port/db)`,
    };
  }
  const shown = `${url.protocol}//${url.username}${url.password ? ':***' : ''}@${url.host}${url.pathname}`;
  if (url.password)
    return {
      problem: `${shown}: a password in the URL would show in process lists and logs; use targets.dump.passwordEnv or targets.dump.passwordFile`,
    };
  const engine = SCHEMES[url.protocol.replace(/:$/, '')];
  if (!engine) return { problem: `${shown}: scheme must be postgres:// or mysql:// (mariadb://)` };
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!url.hostname) return { problem: `${shown}: no host` };
  if (!url.username) return { problem: `${shown}: no user (postgres://user@host/db)` };
  if (!database || database.includes('/')) return { problem: `${shown}: name one database in the path` };
  if (url.search) return { problem: `${shown}: query parameters are not supported` };
  const target: DumpTarget = {
    engine,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : DEFAULT_PORTS[engine],
    user: decodeURIComponent(url.username),
    database,
    url: `${engine === 'postgres' ? 'postgres' : 'mysql'}://${url.username}@${url.host}/${url.pathname.replace(/^\//, '')}`,
    passwordEnv: null,
    passwordFile: null,
  };
  return { target };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Problems with one password source (`where` is the case path of the object holding it). */
function passwordSourceProblems(
  where: string,
  passwordEnv: string | null,
  passwordFile: string | null,
): InputProblem[] {
  const problems: InputProblem[] = [];
  if (passwordEnv && !ENV_NAME.test(passwordEnv))
    problems.push(valueProblem(`${where}.passwordEnv`, passwordEnv, 'is not an environment variable name'));
  if (passwordEnv && passwordFile)
    problems.push({ field: where, message: `give ${where}.passwordEnv or ${where}.passwordFile, not both` });
  return problems;
}

/**
 * One entry of `targets.dump.databases` in a case file: `{ url, passwordEnv }` or `{ url, passwordFile }`,
 * for databases that do not share one password.
 */
function parseDatabaseEntry(entry: unknown, index: number): { target?: DumpTarget; problems: InputProblem[] } {
  const where = `targets.dump.databases[${index}]`;
  if (!entry || typeof entry !== 'object' || Array.isArray(entry))
    return { problems: [{ field: where, message: 'expected { url, passwordEnv | passwordFile }' }] };
  const e = entry as Record<string, unknown>;
  const problems: InputProblem[] = Object.keys(e)
    .filter((k) => !['url', 'passwordEnv', 'passwordFile'].includes(k))
    .map((k) => ({ field: `${where}.${k}`, message: 'unknown field' }));
  if (typeof e.url !== 'string')
    return { problems: [...problems, { field: `${where}.url`, message: 'a postgres:// or mysql:// URL is required' }] };
  const parsed = parseDumpUrl(e.url);
  if (parsed.problem) problems.push({ field: `${where}.url`, message: parsed.problem, continues: true });
  const passwordEnv = e.passwordEnv ? String(e.passwordEnv) : null;
  const passwordFile = e.passwordFile ? String(e.passwordFile) : null;
  problems.push(...passwordSourceProblems(where, passwordEnv, passwordFile));
  return parsed.target && !problems.length
    ? { target: { ...parsed.target, passwordEnv, passwordFile }, problems }
    : { problems };
}

/** Validate the dump provider's params; problems name case paths (`targets.dump.urls[0]`). */
export function parseDumpParams(raw: JsonObject): { params?: DumpParams; problems: InputProblem[] } {
  const read = paramReader('dump', raw, [
    'urls',
    'databases',
    'passwordEnv',
    'passwordFile',
    'serializableDeferrable',
    'lockWaitTimeout',
  ]);
  const { problems } = read;
  const urls = read.list('urls');
  const databases = raw.databases === undefined ? [] : Array.isArray(raw.databases) ? raw.databases : null;
  if (databases === null)
    problems.push({
      field: 'targets.dump.databases',
      message: 'expected a list of { url, passwordEnv | passwordFile }',
    });
  if (!urls.length && !databases?.length)
    problems.push({
      field: 'targets.dump',
      message: 'give at least one of targets.dump.urls or targets.dump.databases',
    });
  const targets: DumpTarget[] = [];
  for (const { text, at } of urls) {
    const r = parseDumpUrl(text);
    if (r.problem) problems.push({ field: at, message: r.problem, continues: true });
    if (r.target) targets.push(r.target);
  }
  (databases ?? []).forEach((entry, i) => {
    const r = parseDatabaseEntry(entry, i);
    problems.push(...r.problems);
    if (r.target) targets.push(r.target);
  });
  const passwordEnv = read.text('passwordEnv');
  const passwordFile = read.text('passwordFile');
  problems.push(...passwordSourceProblems('targets.dump', passwordEnv, passwordFile));
  const seen = new Set<string>();
  for (const t of targets) {
    const key = `${t.engine}://${t.host}:${t.port}/${t.database}`;
    if (seen.has(key)) problems.push({ field: 'targets.dump', message: `${t.url} is named twice` });
    seen.add(key);
  }
  const lockWaitTimeout = read.text('lockWaitTimeout') ?? DEFAULT_LOCK_WAIT_TIMEOUT;
  const serializableDeferrable = read.flag('serializableDeferrable');
  if (!/^\d+(ms|s|min)?$/.test(lockWaitTimeout))
    problems.push(valueProblem('targets.dump.lockWaitTimeout', lockWaitTimeout, ': expected e.g. 30s, 500ms or 2min'));
  return read.result({
    targets,
    passwordEnv,
    passwordFile,
    serializableDeferrable,
    lockWaitTimeout,
  });
}
