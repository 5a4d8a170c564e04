/** Logical dumps through the CLI against real PostgreSQL and MariaDB servers. */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariadb, startPostgres, type LocalDatabase } from '../../src/emulators/databases.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli, startCli } from '../support/cli.js';

const execFileAsync = promisify(execFile);
let pg: LocalDatabase;
let maria: LocalDatabase;
let cwd: string;

beforeAll(async () => {
  [pg, maria] = await Promise.all([startPostgres(), startMariadb()]);
  await pg.sql('CREATE DATABASE orders');
  await pg.sql(
    "CREATE TABLE orders (id int primary key, customer text, total numeric(10,2)); INSERT INTO orders SELECT g, 'customer-' || g, g * 1.5 FROM generate_series(1, 500) g;",
    'orders',
  );
  await pg.sql('CREATE DATABASE bulk');
  // Large enough that the dump is still running when the test kills pg_dump.
  await pg.sql(
    'CREATE TABLE blob AS SELECT g AS id, repeat(md5(g::text), 40) AS payload FROM generate_series(1, 150000) g;',
    'bulk',
  );
  await maria.sql('CREATE DATABASE shop');
  await maria.sql(
    "CREATE TABLE items (id int primary key, name varchar(40)) ENGINE=InnoDB; INSERT INTO items VALUES (1,'lamp'),(2,'desk'),(3,'chair');",
    'shop',
  );
  cwd = mkdtempSync(join(tmpdir(), 'hf-dump-'));
}, 300_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), maria?.stop()]);
});

const pgUrl = (db: string) => `postgres://holdfast@127.0.0.1:${pg.port}/${db}`;
const mariaUrl = (db: string) => `mysql://holdfast@127.0.0.1:${maria.port}/${db}`;

function artifactFile(incident: string, stepDir: string): string {
  const dir = join(cwd, 'es', incident, 'artifacts', stepDir);
  return join(
    dir,
    readdirSync(dir).find((f) => !f.endsWith('.partial'))!,
  );
}

describe('database dumps through the CLI', () => {
  it('dumps PostgreSQL (password from an env var); pg_restore gives back the seeded rows; verify passes', async () => {
    const incident = testIncident('PG');
    const env = motoEnv({ ORDERS_PW: pg.password });
    const res = await runCli(
      [
        'capture',
        '--incident',
        incident,
        '--dump',
        pgUrl('orders'),
        '--dump-password-env',
        'ORDERS_PW',
        '--store',
        'es',
        '--json',
      ],
      { cwd, env },
    );
    expect(res.stderr).toContain('capture complete');
    expect(res.code).toBe(0);
    const manifest = (
      res.lines.at(-1) as {
        manifest: {
          artifacts: { type: string; method: { tool: string; options: string[] }; source: { serverVersion: string } }[];
        };
      }
    ).manifest;
    const dump = manifest.artifacts.find((a) => a.type === 'postgres-dump')!;
    expect(dump.method.tool).toMatch(/^pg_dump \(PostgreSQL\) 15/);
    expect(dump.source.serverVersion).toMatch(/^15/);

    const file = artifactFile(incident, readdirSync(join(cwd, 'es', incident, 'artifacts'))[0]!);
    await pg.sql('CREATE DATABASE orders_restored');
    await execFileAsync(
      'pg_restore',
      ['--no-owner', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'holdfast', '-d', 'orders_restored', file],
      { env: { ...process.env, PGPASSWORD: pg.password } },
    );
    expect(await pg.sql('SELECT count(*), sum(total) FROM orders', 'orders_restored')).toBe(
      await pg.sql('SELECT count(*), sum(total) FROM orders', 'orders'),
    );
    expect((await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env })).code).toBe(0);

    // No password anywhere in what holdfast wrote.
    const written = [
      readFileSync(join(cwd, '.holdfast', incident, 'journal.ndjson'), 'utf8'),
      res.stdout,
      res.stderr,
    ].join('\n');
    expect(written).not.toContain(pg.password);
  });

  it('dumps MariaDB (password from a file); the dump restores into a fresh database', async () => {
    const incident = testIncident('MARIA');
    const pwFile = join(cwd, 'maria.pw');
    writeFileSync(pwFile, `${maria.password}\n`, { mode: 0o600 });
    const res = await runCli(
      [
        'capture',
        '--incident',
        incident,
        '--dump',
        mariaUrl('shop'),
        '--dump-password-file',
        pwFile,
        '--store',
        'es',
        '--json',
      ],
      { cwd, env: motoEnv() },
    );
    expect(res.code).toBe(0);
    const file = artifactFile(incident, readdirSync(join(cwd, 'es', incident, 'artifacts'))[0]!);
    await maria.sql('CREATE DATABASE shop_restored');
    execFileSync(
      'sh',
      ['-c', `mariadb --no-defaults -h 127.0.0.1 -P ${maria.port} -uholdfast shop_restored < '${file}'`],
      { env: { ...process.env, MYSQL_PWD: maria.password } },
    );
    expect(await maria.sql('SELECT group_concat(name ORDER BY id) FROM items', 'shop_restored')).toBe(
      'lamp,desk,chair\n',
    );
    expect((await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env: motoEnv() })).code).toBe(0);
    expect(readFileSync(join(cwd, '.holdfast', incident, 'journal.ndjson'), 'utf8')).not.toContain(maria.password);
  });

  it('a case file gives each database its own password source; both dump in one capture', async () => {
    const incident = testIncident('TWO-DB');
    const pwFile = join(cwd, 'shop.pw');
    writeFileSync(pwFile, `${maria.password}\n`, { mode: 0o600 });
    writeFileSync(
      join(cwd, `${incident}.yaml`),
      [
        `incident: ${incident}`,
        'store: es',
        'targets:',
        '  dump:',
        '    databases:',
        `      - { url: "${pgUrl('orders')}", passwordEnv: ORDERS_PW }`,
        `      - { url: "${mariaUrl('shop')}", passwordFile: "${pwFile}" }`,
        '',
      ].join('\n'),
    );
    const res = await runCli(['capture', '--case', `${incident}.yaml`, '--json'], {
      cwd,
      env: motoEnv({ ORDERS_PW: pg.password }),
    });
    expect(res.code).toBe(0);
    const manifest = (res.lines.at(-1) as { manifest: { artifacts: { type: string; size: number }[] } }).manifest;
    expect(manifest.artifacts.map((a) => a.type).sort()).toEqual(['mariadb-dump', 'postgres-dump']);
    expect(manifest.artifacts.every((a) => a.size > 0)).toBe(true);
    const journal = readFileSync(join(cwd, '.holdfast', incident, 'journal.ndjson'), 'utf8');
    for (const secret of [pg.password, maria.password]) expect(journal).not.toContain(secret);

    // A wrong entry is named, field by field, before anything runs.
    writeFileSync(
      join(cwd, 'bad.yaml'),
      [
        'incident: IR-BAD-DB',
        'store: es',
        'targets:',
        '  dump:',
        '    databases:',
        `      - { url: "${pgUrl('orders')}", passwordEnv: "not a name", extra: 1 }`,
        '',
      ].join('\n'),
    );
    const bad = await runCli(['capture', '--case', 'bad.yaml'], { cwd, env: motoEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('targets.dump.databases[0].extra: unknown field');
    expect(bad.stderr).toContain(
      'targets.dump.databases[0].passwordEnv "not a name" is not an environment variable name',
    );
  });

  it('a dump whose tool is killed mid-stream is a failed step and exit 4, never a complete artifact; ps never shows the password', async () => {
    const incident = testIncident('KILLDUMP');
    const env = motoEnv({ BULK_PW: pg.password });
    const run = startCli(
      [
        'capture',
        '--incident',
        incident,
        '--dump',
        pgUrl('bulk'),
        '--dump-password-env',
        'BULK_PW',
        '--store',
        'es',
        '--json',
      ],
      { cwd, env },
    );
    let killed = false;
    let sawPassword = false;
    for (let i = 0; i < 400 && !killed; i++) {
      const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
      if (ps.includes(pg.password)) sawPassword = true;
      const line = ps.split('\n').find((l) => l.includes('pg_dump') && l.includes('--dbname=bulk'));
      if (line) {
        process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
        killed = true;
      } else await new Promise((r) => setTimeout(r, 25));
    }
    const res = await run.done;
    expect(killed).toBe(true);
    expect(sawPassword).toBe(false);
    expect(res.code).toBe(4);
    const outcome = res.lines.at(-1) as {
      status: string;
      failures: { message: string }[];
      manifest: { artifacts: unknown[] };
    };
    expect(outcome.status).not.toBe('complete');
    expect(outcome.failures[0]!.message).toMatch(/killed by SIGKILL; the dump is incomplete and was not recorded/);
    expect(outcome.manifest.artifacts).toEqual([]);
    const dir = join(cwd, 'es', incident, 'artifacts');
    const stored = existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
    expect(stored.filter((f) => f.endsWith('.pgdump'))).toEqual([]);
  });

  it('names the package to install when the dump tool is missing', async () => {
    const { mkdirSync, symlinkSync } = await import('node:fs');
    const bin = join(cwd, 'bin-without-pg');
    mkdirSync(bin, { recursive: true });
    // A PATH with only what the CLI needs besides the dump tools.
    for (const tool of ['sh']) symlinkSync(`/bin/${tool}`, join(bin, tool));
    const env = motoEnv({ PATH: bin, RIGHT_PW: pg.password });
    const res = await runCli(
      [
        'capture',
        '--incident',
        testIncident('NOTOOL'),
        '--dump',
        pgUrl('orders'),
        '--dump-password-env',
        'RIGHT_PW',
        '--store',
        'es',
      ],
      { cwd, env },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('pg_dump is not installed (Debian: apt-get install postgresql-client)');
  });

  it.each([
    [
      'a password in the URL (never echoed)',
      () => [`--dump`, `postgres://holdfast:s3cretpw@127.0.0.1:${pg.port}/orders`],
      /password in the URL/,
      's3cretpw',
    ],
    [
      'a wrong password',
      () => ['--dump', pgUrl('orders'), '--dump-password-env', 'WRONG_PW'],
      /authentication failed for user holdfast/,
      'not-the-password',
    ],
    [
      'a missing database',
      () => ['--dump', pgUrl('nosuchdb'), '--dump-password-env', 'RIGHT_PW'],
      /database nosuchdb does not exist/,
      undefined,
    ],
    [
      'an unreachable host',
      () => ['--dump', 'postgres://holdfast@127.0.0.1:1/orders', '--dump-password-env', 'RIGHT_PW'],
      /cannot reach 127.0.0.1:1/,
      undefined,
    ],
    [
      'an unset password variable',
      () => ['--dump', pgUrl('orders'), '--dump-password-env', 'UNSET_PW_VAR'],
      /UNSET_PW_VAR: the variable is not set/,
      undefined,
    ],
    [
      'a MariaDB wrong password',
      () => ['--dump', mariaUrl('shop'), '--dump-password-env', 'WRONG_PW'],
      /authentication failed/,
      'not-the-password',
    ],
  ])('refuses %s with exit 2 before anything is stored', async (_label, args, message, secret) => {
    const incident = testIncident('BADDB');
    const env = motoEnv({ WRONG_PW: 'not-the-password', RIGHT_PW: pg.password });
    const res = await runCli(['capture', '--incident', incident, ...(args as () => string[])(), '--store', 'es'], {
      cwd,
      env,
    });
    expect(res.stderr).toMatch(message as RegExp);
    expect(res.code).toBe(2);
    if (secret) expect(res.stderr).not.toContain(secret);
    expect(existsSync(join(cwd, 'es', incident))).toBe(false);
  });
});
