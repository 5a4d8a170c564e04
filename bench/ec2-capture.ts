/**
 * Bench: capture N EC2 instances in one command (batched describes, concurrent steps) beside a
 * one-at-a-time baseline (one capture per instance, one step at a time), against moto with a fixed
 * latency injected into every AWS call. Prints wall time and API calls per instance.
 *   npx tsx bench/ec2-capture.ts [instances=20] [latencyMs=40]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { startMoto } from '../src/emulators/moto.js';
import { executePlan, planCapture } from '../src/index.js';
import { createEc2Clients, type Ec2Clients } from '../providers/ec2/client.js';
import { ec2Provider } from '../providers/ec2/index.js';
import type { Provider } from '../src/core/types.js';
import { awsClientConfig } from '../src/aws/config.js';

const count = Number(process.argv[2] ?? 20);
const latencyMs = Number(process.argv[3] ?? 40);
const moto = await startMoto();
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const env = {
  ...process.env,
  AWS_ENDPOINT_URL: moto.endpoint,
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_REGION: 'us-east-1',
};
const providers: readonly Provider[] = [ec2Provider];

async function seed(n: number): Promise<string[]> {
  const ec2 = new EC2Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16' }))).Vpc!.VpcId!;
  const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.7.1.0/24' }))).Subnet!.SubnetId!;
  const sg = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: 'app', Description: 'app' })))
    .GroupId!;
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      InstanceType: 't3.micro',
      MinCount: n,
      MaxCount: n,
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet, Groups: [sg] }],
    }),
  );
  return run.Instances!.map((i) => i.InstanceId!);
}

function instrumented(): { clients: Ec2Clients; calls: () => number } {
  const clients = createEc2Clients({
    ...awsClientConfig({ kase: { region: 'us-east-1' }, env: {}, clients: {} }),
    endpoint: moto.endpoint,
    credentials,
    maxAttempts: 1,
  });
  let calls = 0;
  for (const client of Object.values(clients)) {
    client.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>) => async (args: unknown) => {
        calls++;
        await new Promise((r) => setTimeout(r, latencyMs));
        return next(args);
      }) as never,
      { step: 'initialize', name: 'benchLatency' } as never,
    );
  }
  return { clients, calls: () => calls };
}

async function capture(incident: string, instances: string[], concurrency: number, c: Ec2Clients) {
  const dir = mkdtempSync(join(tmpdir(), 'hf-bench-'));
  const plan = await planCapture(
    { incident, forensicCidrs: ['198.51.100.1/32'], store: join(dir, 'es'), targets: { ec2: { instances } } },
    { providers, env, clients: { ec2: c } },
  );
  const outcome = await executePlan(plan, {
    providers,
    env,
    clients: { ec2: c },
    stateDir: dir,
    concurrency,
    operator: { osUser: 'bench' },
  });
  if (outcome.status !== 'complete')
    throw new Error(`${incident}: ${outcome.status} ${JSON.stringify(outcome.failures)}`);
}

const batchedIds = await seed(count);
const baselineIds = await seed(count);

const batched = instrumented();
let t = performance.now();
await capture('IR-BENCH-BATCH', batchedIds, 8, batched.clients);
const batchedMs = performance.now() - t;

const baseline = instrumented();
t = performance.now();
for (const [i, id] of baselineIds.entries()) await capture(`IR-BENCH-ONE-${i}`, [id], 1, baseline.clients);
const baselineMs = performance.now() - t;

console.log(`EC2 capture of ${count} instances, ${latencyMs} ms injected per AWS call (moto ${moto.endpoint})`);
console.log('mode                         wall s   calls   calls/instance');
console.log(
  `one command, concurrency 8   ${(batchedMs / 1000).toFixed(1).padStart(6)}  ${String(batched.calls()).padStart(6)}   ${(batched.calls() / count).toFixed(1)}`,
);
console.log(
  `one at a time (baseline)     ${(baselineMs / 1000).toFixed(1).padStart(6)}  ${String(baseline.calls()).padStart(6)}   ${(baseline.calls() / count).toFixed(1)}`,
);
console.log(`speed-up ${(baselineMs / batchedMs).toFixed(1)}×`);
await moto.stop();
