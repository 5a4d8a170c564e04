/**
 * What a responder sees: under a pseudo-terminal (util-linux `script`) the live display redraws, and
 * a dump's byte count grows while it streams; off a terminal there is not one escape code, and
 * --json carries the same progress for bots.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type LocalDatabase } from '../../src/emulators/databases.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { CLI, runCli } from '../support/cli.js';

const execFileAsync = promisify(execFile);
let pg: LocalDatabase;
let cwd: string;

beforeAll(async () => {
  pg = await startPostgres();
  await pg.sql('CREATE DATABASE big');
  // Random hex compresses about half, so pg_dump -Fc streams ~100 MiB: a few seconds of progress.
  await pg.sql(
    'CREATE TABLE evidence AS SELECT g AS id, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) AS payload FROM generate_series(1, 1500000) g;',
    'big',
  );
  cwd = mkdtempSync(join(tmpdir(), 'hf-tty-'));
}, 300_000);

afterAll(async () => {
  await pg?.stop();
});

const dumpArgs = (incident: string) => [
  'capture',
  '--incident',
  incident,
  '--dump',
  `postgres://holdfast@127.0.0.1:${pg.port}/big`,
  '--dump-password-env',
  'BIG_PW',
  '--store',
  'es',
];

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b\[/;

/** Byte counts shown on the dump's live line, in the order they were drawn. */
function drawnBytes(screen: string): number[] {
  const units: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
  return [...screen.matchAll(/\[collect\] dump postgres:\S+ with pg_dump — ([\d.]+) (B|KiB|MiB|GiB)/g)].map(
    (m) => Number(m[1]) * units[m[2]!]!,
  );
}

describe('terminal output', () => {
  it('on a terminal, the dump line redraws in place with growing bytes, a rate and elapsed time', async () => {
    const incident = testIncident('TTY');
    const env: NodeJS.ProcessEnv = {
      ...motoEnv({ BIG_PW: pg.password, HOLDFAST_STATE_DIR: join(cwd, 'state') }),
      TERM: 'xterm-256color',
    };
    delete env.CI;
    const command = `stty rows 40 cols 160; exec ${[process.execPath, CLI, ...dumpArgs(incident)].map(shellQuote).join(' ')}`;
    const { stdout: screen } = await execFileAsync('script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(screen).toMatch(ESCAPE);
    const bytes = drawnBytes(screen);
    const distinct = [...new Set(bytes)];
    expect(distinct.length, `drawn byte counts: ${distinct.join(', ')}`).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < bytes.length; i++) expect(bytes[i]!).toBeGreaterThanOrEqual(bytes[i - 1]!);
    expect(screen).toMatch(/ at [\d.]+ (KiB|MiB|GiB)\/s/);
    expect(screen).toMatch(/elapsed \d+:\d\d · \d+ running · \d+ done/);
    expect(screen).toContain('capture complete: 1 artifacts');
  });

  it('off a terminal: plain lines without escape codes; --json carries growing byte progress', async () => {
    const incident = testIncident('PLAIN');
    const env = motoEnv({ BIG_PW: pg.password });
    const res = await runCli([...dumpArgs(incident), '--json'], { cwd, env });
    expect(res.code).toBe(0);
    expect(res.stderr).not.toMatch(ESCAPE);
    expect(res.stdout).not.toMatch(ESCAPE);
    const progress = res.lines.filter((l) => l.type === 'progress' && typeof l.bytes === 'number') as {
      stepId: string;
      bytes: number;
      bytesPerSecond: number;
      done?: boolean;
    }[];
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.every((p) => p.stepId.startsWith('dump:'))).toBe(true);
    const last = progress.at(-1)!;
    expect(last.done).toBe(true);
    const artifact = res.lines.find((l) => l.type === 'artifact.recorded') as { artifact: { size: number } };
    expect(last.bytes).toBe(artifact.artifact.size);
    expect(last.bytesPerSecond).toBeGreaterThan(0);
    // Plain human lines too: a sign of life in a CI log, no escape codes.
    const human = await runCli(dumpArgs(testIncident('PLAINH')), { cwd, env });
    expect(human.code).toBe(0);
    expect(human.stderr).not.toMatch(ESCAPE);
    expect(human.stderr).toMatch(/dump:\S+: [\d.]+ (B|KiB|MiB)/);
  });
});
