/**
 * How holdfast runs pg_dump, mariadb-dump and their clients: passwords only through a 0600 file
 * (PGPASSFILE, or --defaults-extra-file as the first option), tool errors mapped to plain causes.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { BadInputError } from '../../src/core/errors.js';
import { redact, writeSecretFile, type SecretFile } from '../../src/core/secret-file.js';
import type { DumpEngine, DumpParams, DumpTarget } from './params.js';

const execFileAsync = promisify(execFile);

/** Seconds a client waits to connect before giving up. */
export const CONNECT_TIMEOUT_S = 10;

export const TOOL_PACKAGES: Record<DumpEngine, string> = { postgres: 'postgresql-client', mariadb: 'mariadb-client' };

/** The password for the targets, from the named environment variable or file; undefined means the tool's own files (~/.pgpass, ~/.my.cnf). */
export function resolvePassword(params: DumpParams, env: NodeJS.ProcessEnv, target: DumpTarget): string | undefined {
  // A database's own source (case file) wins over the shared flags.
  const own = target.passwordEnv || target.passwordFile;
  const [fromEnv, fromFile] = own
    ? [target.passwordEnv, target.passwordFile]
    : [params.passwordEnv, params.passwordFile];
  // The problem names the variable or file; the message says which case field named it.
  const namedBy = (key: 'passwordEnv' | 'passwordFile') =>
    own ? `named by ${target.url}'s ${key}` : `named by targets.dump.${key}`;
  if (fromEnv) {
    const value = env[fromEnv];
    if (value === undefined)
      throw new BadInputError({ field: fromEnv, message: `the variable is not set (${namedBy('passwordEnv')})` });
    return value;
  }
  if (fromFile) {
    try {
      return readFileSync(fromFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new BadInputError({
        field: fromFile,
        message: `cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'}; ${namedBy('passwordFile')})`,
      });
    }
  }
  return undefined;
}

const pgpassField = (s: string) => s.replace(/[\\:]/g, (c) => `\\${c}`);
const optionValue = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** A 0600 secret file for one target, or undefined when there is no password to pass. */
export function secretFileFor(t: DumpTarget, password: string | undefined): SecretFile | undefined {
  if (password === undefined) return undefined;
  return t.engine === 'postgres'
    ? writeSecretFile('pgpass', `${pgpassField(t.host)}:${t.port}:*:${pgpassField(t.user)}:${pgpassField(password)}\n`)
    : writeSecretFile('client.cnf', `[client]\npassword=${optionValue(password)}\n`);
}

/** The environment for a tool: the secret by file reference only, and nothing inherited that could override it. */
export function toolEnv(env: NodeJS.ProcessEnv, t: DumpTarget, secret: SecretFile | undefined): NodeJS.ProcessEnv {
  // A password variable inherited from the caller's shell would bypass the named source (and sit in
  // the child's environment): drop both.
  const clean = { ...env };
  delete clean.PGPASSWORD;
  delete clean.MYSQL_PWD;
  if (t.engine === 'postgres')
    return { ...clean, PGCONNECT_TIMEOUT: String(CONNECT_TIMEOUT_S), ...(secret ? { PGPASSFILE: secret.path } : {}) };
  return clean;
}

/** The dump tools of each engine, in the order they are looked for on the PATH. */
export const DUMP_TOOLS: Record<DumpEngine, readonly string[]> = {
  postgres: ['pg_dump'],
  mariadb: ['mariadb-dump', 'mysqldump'],
};

/** The dump tool for an engine: pg_dump, or mariadb-dump (falling back to mysqldump). */
export async function findDumpTool(engine: DumpEngine): Promise<{ path: string; version: string }> {
  const candidates = DUMP_TOOLS[engine];
  for (const c of candidates) {
    try {
      const { stdout } = await execFileAsync(c, ['--version']);
      return { path: c, version: stdout.trim() };
    } catch {
      // try the next name
    }
  }
  throw new BadInputError({
    field: 'targets.dump',
    message: `${candidates.join(' or ')} is not installed (Debian: apt-get install ${TOOL_PACKAGES[engine]}): it dumps ${engine} databases`,
  });
}

/** Arguments for the dump itself; for MariaDB the option file must be the first argument. */
export function dumpArgs(t: DumpTarget, params: DumpParams, secret: SecretFile | undefined): string[] {
  if (t.engine === 'postgres') {
    return [
      '--format=custom',
      '--no-password',
      `--host=${t.host}`,
      `--port=${t.port}`,
      `--username=${t.user}`,
      `--lock-wait-timeout=${params.lockWaitTimeout}`,
      ...(params.serializableDeferrable ? ['--serializable-deferrable'] : []),
      `--dbname=${t.database}`,
    ];
  }
  return [
    ...(secret ? [`--defaults-extra-file=${secret.path}`] : []),
    '--single-transaction',
    '--routines',
    '--triggers',
    '--events',
    '--hex-blob',
    `--host=${t.host}`,
    `--port=${t.port}`,
    `--user=${t.user}`,
    t.database,
  ];
}

/** Translate a tool's stderr into the cause a responder can act on. */
export function classifyToolError(
  t: DumpTarget,
  stderr: string,
  password: string | undefined,
): { kind: 'auth' | 'unreachable' | 'no-database' | 'version' | 'other'; message: string } {
  const text = redact(stderr, password).trim();
  const last = text.split('\n').filter(Boolean).at(-1) ?? 'no output';
  const where = `${t.url}`;
  if (/password authentication failed|no password supplied|Access denied/i.test(text))
    return { kind: 'auth', message: `${where}: authentication failed for user ${t.user} (check the password source)` };
  if (/server version mismatch|aborting because of server version/i.test(text))
    return { kind: 'version', message: `${where}: the server is newer than this pg_dump: ${last}` };
  if (/does not exist|Unknown database/i.test(text))
    return { kind: 'no-database', message: `${where}: database ${t.database} does not exist` };
  if (
    /could not connect|Connection refused|could not translate host|timeout expired|Can't connect|Unknown (MySQL|MariaDB) server host|Network is unreachable/i.test(
      text,
    )
  ) {
    return { kind: 'unreachable', message: `${where}: cannot reach ${t.host}:${t.port} (${last})` };
  }
  return { kind: 'other', message: `${where}: ${last}` };
}

/** Ask the server its version (read-only) using the same secret mechanism as the dump. */
export async function serverVersion(
  t: DumpTarget,
  password: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const secret = secretFileFor(t, password);
  try {
    const run =
      t.engine === 'postgres'
        ? execFileAsync(
            'psql',
            [
              '--no-password',
              '--no-psqlrc',
              `--host=${t.host}`,
              `--port=${t.port}`,
              `--username=${t.user}`,
              `--dbname=${t.database}`,
              '-Atc',
              'show server_version',
            ],
            { env: toolEnv(env, t, secret), timeout: 30_000 },
          )
        : execFileAsync(
            'mariadb',
            [
              ...(secret ? [`--defaults-extra-file=${secret.path}`] : []),
              `--connect-timeout=${CONNECT_TIMEOUT_S}`,
              `--host=${t.host}`,
              `--port=${t.port}`,
              `--user=${t.user}`,
              t.database,
              '-N',
              '-e',
              'select version()',
            ],
            { env: toolEnv(env, t, secret), timeout: 30_000 },
          );
    return (await run).stdout.trim();
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new BadInputError({
        field: 'targets.dump',
        message: `${t.url}: ${t.engine === 'postgres' ? 'psql' : 'mariadb'} is not installed (Debian: apt-get install ${TOOL_PACKAGES[t.engine]})`,
        continues: true,
      });
    const c = classifyToolError(t, e.stderr ?? e.message, password);
    throw new BadInputError({ field: 'targets.dump', message: c.message, continues: true });
  } finally {
    secret?.remove();
  }
}

/** Major version from "15.18 (Debian …)" or "10.11.19-MariaDB". */
export function majorVersion(text: string): number {
  const m = /(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return NaN;
  const major = Number(m[1]);
  // PostgreSQL before 10 counted majors as 9.6, 9.5 …
  return major < 10 && m[2] ? major + Number(m[2]) / 10 : major;
}
