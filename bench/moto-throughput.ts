/**
 * Bench: how many calls per second moto itself answers on this machine, with no holdfast in the
 * way — the ceiling for any fleet capture against it. One instance per "fleet size" seeded, then
 * the cheapest per-instance calls a capture makes (DescribeInstanceAttribute, a no-op
 * ModifyInstanceAttribute) sent by `concurrency` workers, directly and through the latency proxy.
 *   npx tsx bench/moto-throughput.ts [fleetSize=200] [callsPerRun=600] [concurrency=1,8,64] [latencyMs=150]
 * Figures, not a test.
 */
import { loadavg } from 'node:os';
import { DescribeInstanceAttributeCommand, EC2Client, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { startMoto } from '../src/emulators/moto.js';
import { startFaultProxy } from '../src/emulators/fault-proxy.js';
import { seedFleet } from './seed-fleet.js';

const fleet = Number(process.argv[2] ?? 200);
const calls = Number(process.argv[3] ?? 600);
const concurrencies = (process.argv[4] ?? '1,8,64').split(',').map(Number);
const latencyMs = Number(process.argv[5] ?? 150);
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

process.env.MOTO_EC2_LOAD_DEFAULT_AMIS = 'false';
const moto = await startMoto();
try {
  const client = (endpoint: string) => new EC2Client({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const direct = client(moto.endpoint);
  const ids = await seedFleet(direct, fleet, { run: 'throughput', dataVolume: false });
  const proxy = await startFaultProxy(moto.endpoint, { rules: [{ fault: 'latency', latencyMs }] });
  for (const [label, endpoint] of [
    ['moto directly', moto.endpoint],
    [`through the proxy (+${latencyMs} ms)`, proxy.endpoint],
  ] as const) {
    const ec2 = client(endpoint);
    for (const concurrency of concurrencies) {
      for (const kind of ['DescribeInstanceAttribute', 'ModifyInstanceAttribute'] as const) {
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < calls) {
              const id = ids[next++ % ids.length]!;
              if (kind === 'DescribeInstanceAttribute')
                await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'disableApiStop' }));
              else
                await ec2.send(
                  new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiStop: { Value: false } }),
                );
            }
          }),
        );
        const s = (performance.now() - started) / 1000;
        console.log(
          `${label.padEnd(30)} ${kind.padEnd(26)} concurrency ${String(concurrency).padStart(3)}: ${(calls / s).toFixed(1).padStart(6)} calls/s (${calls} in ${s.toFixed(1)} s, ${fleet} instances)  load ${loadavg()
            .map((l) => l.toFixed(2))
            .join(' ')}`,
        );
      }
    }
  }
  await proxy.close();
} finally {
  await moto.stop();
}
