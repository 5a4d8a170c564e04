/**
 * Bench: dump a generated PostgreSQL database through the CLI into a local evidence store and print
 * throughput and the CLI's peak RSS beside `pg_dump -Fc > /dev/null` on the same database.
 *   npx tsx bench/dump-throughput.ts [megabytes=1024]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../src/emulators/databases.js';

const megabytes = Number(process.argv[2] ?? 1024);
const ROW_BYTES = 1024;
const rows = Math.round((megabytes * 1024 * 1024) / ROW_BYTES);
const cli = new URL('../dist/src/cli/main.js', import.meta.url).pathname;

const pg = await startPostgres();
await pg.sql('CREATE DATABASE bench');
let t = performance.now();
// Hex of random bytes: about 1 KiB a row that pg_dump's compression cannot shrink much.
await pg.sql(
  `CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE TABLE evidence AS SELECT g AS id, encode(gen_random_bytes(${ROW_BYTES / 2 - 8}), 'hex') AS payload FROM generate_series(1, ${rows}) g;`,
  'bench',
);
const size = (await pg.sql("SELECT pg_database_size('bench')", 'bench')).trim();
console.log(
  `generated ${rows} rows, database ${(Number(size) / 1024 / 1024).toFixed(0)} MiB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

const env = { ...process.env, BENCH_PW: pg.password, PGPASSWORD: pg.password };
t = performance.now();
execFileSync('sh', ['-c', `pg_dump -Fc -h 127.0.0.1 -p ${pg.port} -U holdfast -d bench > /dev/null`], { env });
const baselineS = (performance.now() - t) / 1000;

/** Peak RSS of a process, sampled from /proc while it runs (KiB). */
async function runMeasured(
  args: string[],
  cwd: string,
): Promise<{ seconds: number; peakKiB: number; code: number | null }> {
  const started = performance.now();
  const child = spawn(process.execPath, [cli, ...args], {
    cwd,
    env: { ...process.env, BENCH_PW: pg.password },
    stdio: 'ignore',
  });
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      // exited between samples
    }
  }, 50);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(timer);
  return { seconds: (performance.now() - started) / 1000, peakKiB: peak, code };
}

const cwd = mkdtempSync(join(tmpdir(), 'hf-dumpbench-'));
const run = await runMeasured(
  [
    'capture',
    '--incident',
    'IR-BENCH-DUMP',
    '--dump',
    `postgres://holdfast@127.0.0.1:${pg.port}/bench`,
    '--dump-password-env',
    'BENCH_PW',
    '--store',
    'es',
  ],
  cwd,
);
const dumpFile = execFileSync('sh', ['-c', `ls ${cwd}/es/IR-BENCH-DUMP/artifacts/*/*.pgdump`], {
  encoding: 'utf8',
}).trim();
const dumpBytes = statSync(dumpFile).size;
const mib = dumpBytes / 1024 / 1024;
console.log(`dump size ${mib.toFixed(0)} MiB (exit ${run.code})`);
console.log('mode                               wall s   MiB/s of dump   peak RSS MiB');
console.log(
  `pg_dump -Fc > /dev/null            ${baselineS.toFixed(1).padStart(6)}   ${(mib / baselineS).toFixed(1).padStart(13)}   (not measured)`,
);
console.log(
  `evidence capture --dump (hashed)   ${run.seconds.toFixed(1).padStart(6)}   ${(mib / run.seconds).toFixed(1).padStart(13)}   ${(run.peakKiB / 1024).toFixed(0).padStart(12)}`,
);
await pg.stop();
