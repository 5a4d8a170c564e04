/**
 * Bench: one `evidence capture` of a fleet (one ENI and two volumes per instance) through the CLI,
 * against moto behind a proxy: first with latency injected into every AWS call (client pacing off,
 * as for an account with raised limits), then through a proxy that enforces EC2-like token buckets
 * (AWS's default sizes) with holdfast's client pacing on. Prints wall time, CPU and peak RSS of the
 * CLI process, calls per instance by action, throttles, and time to containment per target against
 * the floor the buckets allow. Figures, not a test.
 *   npm run bench:fleet -- [sizes=20,200] [latencyMs=150] [modes=latency,buckets,sequential]
 * `sequential` adds a --concurrency 1 run through the latency proxy (the baseline for the speed-up).
 * Each run also prints the load average at its start and end (the machine is shared), the CLI's
 * peak open file handles (sampled), moto's own CPU time and service time per call (how close moto
 * itself is to being the bottleneck). BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the CLI there.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { startMoto, type MotoServer } from '../src/emulators/moto.js';
import { startFaultProxy, type FaultProxy, type ProxyBucket } from '../src/emulators/fault-proxy.js';
import { seedFleet } from './seed-fleet.js';
import { EC2_DEFAULT_BUCKETS, ec2Category } from '../src/aws/rate-limit.js';

const sizes = (process.argv[2] ?? '20,200').split(',').map(Number);
const latencyMs = Number(process.argv[3] ?? 150);
const modes = (process.argv[4] ?? 'latency,buckets').split(',');
const cli = resolve('dist/src/cli/main.js');
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

/** The bench fleet: one ENI and a root and a data volume per instance, tagged bench=<run>. */
async function seed(moto: MotoServer, n: number, run: string): Promise<void> {
  const ec2 = new EC2Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  await seedFleet(ec2, n, { run, dataVolume: true });
}

interface RunResult {
  wallS: number;
  cpuS: number;
  peakRssMiB: number;
  /** Most file handles the CLI held at once (sampled every 200 ms). */
  peakFds: number;
  /** CPU seconds moto spent during the capture. */
  motoCpuS: number | undefined;
  /** CPU seconds this bench process (the proxy) spent during the capture. */
  proxyCpuS: number;
  loadStart: string;
  loadEnd: string;
  status: string;
  ttc?: { p50Ms: number; p95Ms: number; maxMs: number; targets: number };
  awsCalls?: { calls: number; throttles: number; pacedMs: number };
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** utime + stime of a process in seconds, from /proc (undefined off Linux). */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Open file handles of the CLI (the child of /usr/bin/time), or 0 when not readable. */
function fdsUnder(timePid: number | undefined): number {
  if (!timePid) return 0;
  try {
    const children = readFileSync(`/proc/${timePid}/task/${timePid}/children`, 'utf8').trim().split(' ');
    return children.filter(Boolean).reduce((n, pid) => n + readdirSync(`/proc/${pid}/fd`).length, 0);
  } catch {
    return 0;
  }
}

async function runCapture(
  endpoint: string,
  run: string,
  extra: string[],
  env: Record<string, string>,
  motoPid: number | undefined,
): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hf-fleet-'));
  const timeFile = join(dir, 'time.txt');
  const profile = process.env.BENCH_CPU_PROF;
  const args = [
    '-f',
    '%e %U %S %M',
    '-o',
    timeFile,
    process.execPath,
    ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []),
    cli,
    'capture',
    '--incident',
    `IR-FLEET-${run}`,
    '--instance-tag',
    `bench=${run}`,
    '--forensic-cidr',
    '198.51.100.1/32',
    '--store',
    join(dir, 'es'),
    '--state-dir',
    join(dir, 'state'),
    '--json',
    ...extra,
  ];
  const child = spawn('/usr/bin/time', args, {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const loadStart = load();
  const motoCpuBefore = cpuSecondsOf(motoPid);
  const proxyCpuBefore = process.cpuUsage();
  let peakFds = 0;
  const sampler = setInterval(() => (peakFds = Math.max(peakFds, fdsUnder(child.pid))), 200);
  let tail = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    // Only the last line (the outcome) is kept: a fleet's event stream is large.
    tail = (tail + d.toString()).split('\n').slice(-2).join('\n');
  });
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  clearInterval(sampler);
  const motoCpuAfter = cpuSecondsOf(motoPid);
  const proxyCpu = process.cpuUsage(proxyCpuBefore);
  const [wall, user, sys, rssKiB] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  const outcome = JSON.parse(tail.trim().split('\n').at(-1) || '{}') as {
    status?: string;
    timeToContainment?: RunResult['ttc'];
    calls?: { aws?: RunResult['awsCalls'] };
  };
  if (code !== 0) console.error(`  capture exited ${code}: ${stderr.slice(-1500)}`);
  return {
    wallS: wall!,
    cpuS: user! + sys!,
    peakRssMiB: rssKiB! / 1024,
    peakFds,
    proxyCpuS: (proxyCpu.user + proxyCpu.system) / 1e6,
    motoCpuS: motoCpuBefore !== undefined && motoCpuAfter !== undefined ? motoCpuAfter - motoCpuBefore : undefined,
    loadStart,
    loadEnd: load(),
    status: outcome.status ?? `exit ${code}`,
    ...(outcome.timeToContainment ? { ttc: outcome.timeToContainment } : {}),
    ...(outcome.calls?.aws ? { awsCalls: outcome.calls.aws } : {}),
  };
}

function byAction(proxy: FaultProxy, from: number): Map<string, { sent: number; throttled: number }> {
  const out = new Map<string, { sent: number; throttled: number }>();
  for (const c of proxy.calls.slice(from)) {
    const key = `${c.service}:${c.action}`;
    const row = out.get(key) ?? { sent: 0, throttled: 0 };
    row.sent++;
    if (c.fault === 'throttle') row.throttled++;
    out.set(key, row);
  }
  return out;
}

/** EC2-like buckets for the enforcing proxy: AWS's default per-API sizes for EC2 calls. */
const ec2Buckets = (service: string, action: string): ProxyBucket | undefined =>
  service === 'ec2' ? EC2_DEFAULT_BUCKETS[ec2Category(action)] : undefined;

/**
 * Lower bound on time to containment of the k-th target when instances are contained in order: for
 * every API, k instances' calls before containment minus the bucket's burst, at its refill rate.
 */
function bucketFloorMs(perInstance: Map<string, number>, k: number): number {
  let worst = 0;
  for (const [key, calls] of perInstance) {
    const [service, action] = key.split(':') as [string, string];
    const b = ec2Buckets(service, action);
    if (!b) continue;
    worst = Math.max(worst, ((k * calls - b.capacity) / b.perSecond) * 1000);
  }
  return worst;
}

const s = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

function report(label: string, n: number, r: RunResult, calls: Map<string, { sent: number; throttled: number }>) {
  const total = [...calls.values()].reduce((a, c) => a + c.sent, 0);
  const throttled = [...calls.values()].reduce((a, c) => a + c.throttled, 0);
  console.log(
    `${label.padEnd(34)} ${r.status.padEnd(9)} wall ${r.wallS.toFixed(1).padStart(6)} s  cpu ${r.cpuS.toFixed(1).padStart(5)} s (${((r.cpuS / n) * 1000).toFixed(0)} ms/instance)  peak RSS ${r.peakRssMiB.toFixed(0)} MiB  calls ${total} (${(total / n).toFixed(1)}/instance)  throttled ${throttled}`,
  );
  console.log(
    `${''.padEnd(34)} peak open files ${r.peakFds}  moto cpu ${r.motoCpuS?.toFixed(1) ?? '?'} s  proxy cpu ${r.proxyCpuS.toFixed(1)} s  load average ${r.loadStart} at start, ${r.loadEnd} at end`,
  );
  if (r.ttc)
    console.log(
      `${''.padEnd(34)} time to containment p50 ${s(r.ttc.p50Ms)}  p95 ${s(r.ttc.p95Ms)}  max ${s(r.ttc.maxMs)} over ${r.ttc.targets} targets`,
    );
}

/**
 * Where the wall time went, from the proxy's timeline: calls per second overall and at the busiest
 * second, moto's mean service time per call, and the mean number of calls moto was working on.
 */
function timeline(proxy: FaultProxy, wallS: number) {
  const forwarded = proxy.calls.filter((c) => c.upstreamMs !== undefined);
  if (!forwarded.length) return;
  const first = Math.min(...proxy.calls.map((c) => c.receivedAt ?? Infinity));
  const perSecond = new Map<number, number>();
  for (const c of proxy.calls) {
    const k = Math.floor(((c.receivedAt ?? first) - first) / 1000);
    perSecond.set(k, (perSecond.get(k) ?? 0) + 1);
  }
  const busy = forwarded.reduce((a, c) => a + c.upstreamMs!, 0);
  console.log(
    `  timeline: ${(proxy.calls.length / wallS).toFixed(1)} calls/s over the run, busiest second ${Math.max(...perSecond.values())}; moto answered in ${(busy / forwarded.length).toFixed(1)} ms on average, ${(busy / 1000 / wallS).toFixed(1)} calls at moto at once on average`,
  );
}

function breakdown(n: number, calls: Map<string, { sent: number; throttled: number }>) {
  const rows = [...calls.entries()].sort((a, b) => b[1].sent - a[1].sent);
  console.log('  calls by action (per instance, total incl. per-incident calls):');
  for (const [key, c] of rows)
    console.log(`    ${key.padEnd(46)} ${(c.sent / n).toFixed(2).padStart(7)}  ${String(c.sent).padStart(6)}`);
}

process.env.MOTO_EC2_LOAD_DEFAULT_AMIS = 'false';
for (const n of sizes) {
  console.log(`\n=== ${n} instances (one ENI, two volumes each) ===`);
  for (const mode of modes) {
    const moto = await startMoto();
    const run = `${mode}-${n}-${Date.now().toString(36)}`;
    try {
      await seed(moto, n, run);
      const proxy =
        mode === 'buckets'
          ? await startFaultProxy(moto.endpoint, { buckets: ec2Buckets })
          : await startFaultProxy(moto.endpoint, { rules: [{ fault: 'latency', latencyMs }] });
      const extra = mode === 'sequential' ? ['--concurrency', '1'] : [];
      // Latency runs model an account with raised limits: the client does not pace.
      const env: Record<string, string> = mode === 'buckets' ? {} : { HOLDFAST_EC2_RATE_LIMITS: 'off' };
      const result = await runCapture(proxy.endpoint, run, extra, env, moto.pid);
      const calls = byAction(proxy, 0);
      const label =
        mode === 'buckets'
          ? 'EC2 token buckets (AWS defaults)'
          : `${latencyMs} ms latency, ${mode === 'sequential' ? '--concurrency 1' : 'default'}`;
      report(label, n, result, calls);
      timeline(proxy, result.wallS);
      if (mode !== 'sequential') breakdown(n, calls);
      if (mode === 'buckets') {
        // Calls before containment: everything but settle's snapshot polls.
        const perInstance = new Map(
          [...calls.entries()]
            .filter(([k]) => k !== 'ec2:DescribeSnapshots')
            .map(([k, c]) => [k, (c.sent - c.throttled) / n] as const),
        );
        const floor = (q: number) => bucketFloorMs(perInstance, Math.ceil(q * n));
        console.log(
          `  bucket floor for time to containment: p50 ${s(floor(0.5))}  p95 ${s(floor(0.95))}  max ${s(floor(1))}` +
            // Under a second the burst covers the fleet: latency, not the buckets, bounds it.
            (result.ttc && floor(0.95) >= 1000
              ? `  → measured/floor p50 ${(result.ttc.p50Ms / Math.max(1000, floor(0.5))).toFixed(2)}×, p95 ${(result.ttc.p95Ms / floor(0.95)).toFixed(2)}×, max ${(result.ttc.maxMs / Math.max(1000, floor(1))).toFixed(2)}×`
              : '  (the burst of every bucket covers this fleet: no rate-limit floor)'),
        );
      }
      await proxy.close();
    } finally {
      await moto.stop();
    }
  }
}
