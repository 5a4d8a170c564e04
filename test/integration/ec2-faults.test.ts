/** Faults a server cannot produce on demand, injected by SDK middleware around real moto calls. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, inject, it } from 'vitest';
import { executePlan, planCapture, type CaptureEvent, type Provider } from '../../src/index.js';
import { seedAws } from '../../src/drill/client.js';
import { createEc2Clients } from '../../providers/ec2/client.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { SNAPSHOT_SPACING_MS } from '../../providers/ec2/run-collect.js';
import { clientDefaults, motoEnv, testIncident } from '../support/aws.js';

describe('EC2 under faults', () => {
  it('a CreateSnapshots answer lost in a timeout is retried without a second snapshot set', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const env = motoEnv();
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    const clients = createEc2Clients({
      ...clientDefaults(),
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL!,
      maxAttempts: 1,
      credentials,
    });
    let lost = 0;
    let throttled = 0;
    clients.ec2.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (context.commandName === 'DescribeInstanceAttributeCommand' && throttled < 2) {
          throttled++;
          throw Object.assign(new Error('Request limit exceeded.'), {
            name: 'RequestLimitExceeded',
            $metadata: { httpStatusCode: 503 },
          });
        }
        const result = await next(args);
        // The snapshots were created, but the answer never reached us.
        if (context.commandName === 'CreateSnapshotsCommand' && lost === 0) {
          lost++;
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        }
        return result;
      }) as never,
      { step: 'initialize', name: 'faults' } as never,
    );
    const providers = [ec2Provider as unknown as Provider];
    const dir = mkdtempSync(join(tmpdir(), 'hf-faults-'));
    const incident = testIncident('FAULT');
    const plan = await planCapture(
      { incident, store: join(dir, 'es'), contain: false, targets: { ec2: { instances: [seeded.instanceId] } } },
      { providers, env, clients: { ec2: clients } },
    );
    const events: CaptureEvent[] = [];
    const outcome = await executePlan(plan, {
      providers,
      env,
      clients: { ec2: clients },
      stateDir: dir,
      retry: { baseDelayMs: 10 },
      onEvent: (e) => events.push(e),
    });
    expect(outcome.status).toBe('complete');
    expect(lost).toBe(1);
    expect(throttled).toBe(2);
    expect(
      events
        .filter((e) => e.type === 'step.retry')
        .map((e) => e.stepId)
        .sort(),
    ).toEqual(
      [
        `ec2:protect/${seeded.instanceId}`,
        `ec2:protect/${seeded.instanceId}`,
        `ec2:snapshot/${seeded.instanceId}`,
      ].sort(),
    );
    const snaps = await new EC2Client({ endpoint: env.AWS_ENDPOINT_URL!, region: 'us-east-1', credentials }).send(
      new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] }),
    );
    expect(snaps.Snapshots).toHaveLength(seeded.volumeIds.length + 1);
    expect(outcome.artifacts.filter((a) => a.type === 'ebs-snapshot')).toHaveLength(seeded.volumeIds.length + 1);
  });
});

describe('EC2 snapshot request lost before it reached EC2', () => {
  it('looks again after the 15 s spacing, then takes exactly one set', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const env = motoEnv();
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    const clients = createEc2Clients({
      ...clientDefaults(),
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL!,
      maxAttempts: 1,
      credentials,
    });
    const sentAt: number[] = [];
    clients.ec2.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (context.commandName !== 'CreateSnapshotsCommand') return next(args);
        sentAt.push(Date.now());
        // Nothing was created: from the caller's side this is indistinguishable from a lost answer.
        if (sentAt.length === 1) throw Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
        return next(args);
      }) as never,
      { step: 'initialize', name: 'loseRequest' } as never,
    );
    const providers = [ec2Provider as unknown as Provider];
    const dir = mkdtempSync(join(tmpdir(), 'hf-lostreq-'));
    const incident = testIncident('LOSTREQ');
    const plan = await planCapture(
      { incident, store: join(dir, 'es'), contain: false, targets: { ec2: { instances: [seeded.instanceId] } } },
      { providers, env, clients: { ec2: clients } },
    );
    const events: CaptureEvent[] = [];
    const outcome = await executePlan(plan, {
      providers,
      env,
      clients: { ec2: clients },
      stateDir: dir,
      retry: { baseDelayMs: 10 },
      onEvent: (e) => events.push(e),
    });
    expect(outcome.status).toBe('complete');
    expect(sentAt).toHaveLength(2);
    expect(sentAt[1]! - sentAt[0]!).toBeGreaterThanOrEqual(SNAPSHOT_SPACING_MS - 100);
    expect(events.some((e) => e.type === 'step.progress' && /was interrupted; looking again/.test(e.message))).toBe(
      true,
    );
    const snaps = await new EC2Client({ endpoint: env.AWS_ENDPOINT_URL!, region: 'us-east-1', credentials }).send(
      new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] }),
    );
    expect(snaps.Snapshots).toHaveLength(seeded.volumeIds.length + 1);
  }, 60_000);
});

describe('Spot instances', () => {
  it('records that stop protection cannot be set, sets the rest, and does not fail', async () => {
    const { RunInstancesCommand, DescribeInstanceAttributeCommand } = await import('@aws-sdk/client-ec2');
    const env = motoEnv();
    const ec2 = new EC2Client({
      endpoint: env.AWS_ENDPOINT_URL!,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        MinCount: 1,
        MaxCount: 1,
        InstanceMarketOptions: { MarketType: 'spot' },
      }),
    );
    const id = run.Instances![0]!.InstanceId!;
    const providers = [ec2Provider as unknown as Provider];
    const dir = mkdtempSync(join(tmpdir(), 'hf-spot-'));
    const plan = await planCapture(
      { incident: testIncident('SPOT'), store: join(dir, 'es'), contain: false, targets: { ec2: { instances: [id] } } },
      { providers, env },
    );
    expect(plan.limitations.join('\n')).toContain(`${id} is a Spot instance: stop protection is not supported`);
    const outcome = await executePlan(plan, { providers, env, stateDir: dir });
    expect(outcome.status).toBe('complete');
    expect(outcome.changes.map((c) => c.attribute)).not.toContain('disableApiStop');
    expect(outcome.changes.map((c) => c.attribute)).toContain('disableApiTermination');
    const stop = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'disableApiStop' }));
    expect(stop.DisableApiStop?.Value ?? false).toBe(false);
  });
});
