/**
 * Throw-away PostgreSQL and MariaDB servers on loopback for tests and drills: fresh data
 * directories, a password-authenticated user, free ports. Nothing here touches a real database.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeSecretFile } from '../core/secret-file.js';
import { freePort } from './moto.js';

const execFileAsync = promisify(execFile);
const READY_TIMEOUT_MS = 60_000;

export interface LocalDatabase {
  engine: 'postgres' | 'mariadb';
  host: string;
  port: number;
  user: string;
  password: string;
  /** An administrative database to connect to (postgres / mysql). */
  adminDatabase: string;
  /** Run SQL as the test user; returns stdout. The password goes through the environment of this test helper only. */
  sql(statement: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

/** PostgreSQL refuses to run as root; in CI we are root, so the server runs as this user. */
const POSTGRES_OS_USER = 'postgres';

function postgresBin(name: string): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', name))) return join(base, v, 'bin', name);
  throw new Error(`PostgreSQL server binary ${name} not found (Debian: apt-get install postgresql)`);
}

function asServerUser(cmd: string, args: string[], user: string | undefined): [string, string[]] {
  return user ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, args];
}

async function waitFor(check: () => Promise<boolean>, what: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (!(await check())) {
    if (exited) throw new Error(`${what} exited during start-up`);
    if (Date.now() > deadline) throw new Error(`${what} did not become ready in ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return async () => {
    process.removeListener('exit', kill);
    if (child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
}

/** Start a PostgreSQL server with user `holdfast` (password auth) on a free loopback port. */
export async function startPostgres(): Promise<LocalDatabase> {
  const osUser = userInfo().uid === 0 ? POSTGRES_OS_USER : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hf-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (osUser) {
    const { stdout } = await execFileAsync('id', ['-u', osUser]);
    const uid = Number(stdout.trim());
    chownSync(dir, uid, uid);
    chownSync(pwfile, uid, uid);
  }
  chmodSync(dir, 0o700);
  const [initCmd, initArgs] = asServerUser(
    postgresBin('initdb'),
    ['-D', data, '-U', 'holdfast', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync'],
    osUser,
  );
  await execFileAsync(initCmd, initArgs, { timeout: 120_000 });
  const port = await freePort();
  const [cmd, args] = asServerUser(
    postgresBin('postgres'),
    ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off'],
    osUser,
  );
  const child = spawn(cmd, args, { stdio: 'ignore' });
  // The same secret-file mechanism the dump provider uses: no password in argv or the environment.
  const secret = writeSecretFile('pgpass', `127.0.0.1:${port}:*:holdfast:${password}\n`);
  const env = { ...process.env, PGPASSFILE: secret.path };
  const sql = async (statement: string, database = 'postgres') =>
    (
      await execFileAsync(
        'psql',
        [
          '--no-password',
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          'holdfast',
          '-d',
          database,
          '-v',
          'ON_ERROR_STOP=1',
          '-Atc',
          statement,
        ],
        { env, maxBuffer: 64 * 1024 * 1024 },
      )
    ).stdout;
  await waitFor(
    async () =>
      await execFileAsync('pg_isready', ['-h', '127.0.0.1', '-p', String(port)]).then(
        () => true,
        () => false,
      ),
    'PostgreSQL',
    child,
  );
  const stop = stopper(child);
  return {
    engine: 'postgres',
    host: '127.0.0.1',
    port,
    user: 'holdfast',
    password,
    adminDatabase: 'postgres',
    sql,
    stop: async () => (await stop(), secret.remove()),
  };
}

/** Start a MariaDB server with user `holdfast` (password auth over TCP) on a free loopback port. */
export async function startMariadb(): Promise<LocalDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'hf-maria-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const runAs = userInfo().username;
  await execFileAsync(
    'mariadb-install-db',
    [`--datadir=${data}`, `--user=${runAs}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
    { timeout: 120_000 },
  );
  const port = await freePort();
  const mariadbd = existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd';
  const child = spawn(
    mariadbd,
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--user=${runAs}`,
      `--pid-file=${join(dir, 'pid')}`,
      '--innodb-flush-log-at-trx-commit=0',
      '--skip-log-bin',
    ],
    { stdio: 'ignore' },
  );
  const root = (statement: string) =>
    execFileAsync('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-e', statement]);
  await waitFor(
    async () =>
      root('select 1').then(
        () => true,
        () => false,
      ),
    'MariaDB',
    child,
  );
  const password = randomBytes(12).toString('hex');
  await root(
    `CREATE USER 'holdfast'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO 'holdfast'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;`,
  );
  const secret = writeSecretFile('client.cnf', `[client]\npassword="${password}"\n`);
  const sql = async (statement: string, database = 'mysql') =>
    (
      await execFileAsync(
        'mariadb',
        [
          `--defaults-extra-file=${secret.path}`,
          '-h',
          '127.0.0.1',
          '-P',
          String(port),
          '-uholdfast',
          database,
          '-N',
          '-e',
          statement,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      )
    ).stdout;
  const stop = stopper(child);
  return {
    engine: 'mariadb',
    host: '127.0.0.1',
    port,
    user: 'holdfast',
    password,
    adminDatabase: 'mysql',
    sql,
    stop: async () => (await stop(), secret.remove()),
  };
}
