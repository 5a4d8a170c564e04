/**
 * Network faults between holdfast and moto, injected by our fault proxy (src/emulators/fault-proxy.ts):
 * creates whose answers are lost, throttling, and a call that never answers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { executePlan, planCapture, type CaptureEvent } from '../../src/index.js';
import { seedAws } from '../../src/drill/client.js';
import { startFaultProxy, type FaultProxy } from '../../src/emulators/fault-proxy.js';
import { createTestBucket, motoEnv, testIncident } from '../support/aws.js';
import { groupsNow, incidentGroups, incidentSnapshots, motoEc2, seedFleet } from '../support/fleet.js';

let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

const suffix = () => Math.random().toString(16).slice(2, 8);

describe('through the fault proxy', () => {
  it('each create answered and then dropped once: nothing made twice, everything in the manifest', async () => {
    const moto = inject('motoEndpoint');
    const seeded = await seedAws(moto, suffix());
    const creates = ['CreateSnapshots', 'CreateSecurityGroup', 'CreateTags', 'CreateDBSnapshot', 'AddTagsToResource'];
    proxy = await startFaultProxy(moto, {
      seed: 7,
      rules: creates.map((action) => ({ fault: 'forward-then-drop' as const, action, times: 1 })),
    });
    // The SDK may retry (3 attempts, as in production): only our middleware keeps it from re-sending a create.
    const env = motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint, HOLDFAST_AWS_MAX_ATTEMPTS: '3' });
    const dir = mkdtempSync(join(tmpdir(), 'hf-lost-'));
    const incident = testIncident('LOST');
    const plan = await planCapture(
      {
        incident,
        store: join(dir, 'es'),
        forensicCidrs: ['10.99.0.0/24'],
        targets: { ec2: { instances: [seeded.instanceId] }, rds: { dbInstances: [seeded.dbInstance] } },
      },
      { env },
    );
    const events: CaptureEvent[] = [];
    const outcome = await executePlan(plan, {
      env,
      stateDir: join(dir, 'state'),
      retry: { baseDelayMs: 10 },
      onEvent: (e) => events.push(e),
    });
    expect(outcome.failures).toEqual([]);
    expect(outcome.status).toBe('complete');
    // Every rule fired, and each lost create was reconciled instead of re-sent.
    expect(
      proxy.calls
        .filter((c) => c.fault === 'forward-then-drop')
        .map((c) => c.action)
        .sort(),
    ).toEqual([...creates].sort());
    expect(proxy.forwarded('CreateSnapshots')).toHaveLength(1);
    // (CreateSecurityGroup: the EC2 and RDS steps for one VPC may race; the loser adopts — counted below in moto.)
    expect(proxy.forwarded('CreateDBSnapshot')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'step.retry').length).toBeGreaterThanOrEqual(creates.length);

    const ec2 = motoEc2(moto);
    const snaps = await incidentSnapshots(ec2, incident);
    expect(snaps.map((s) => s.volumeId).sort()).toEqual([...new Set(snaps.map((s) => s.volumeId))].sort());
    expect(snaps.length).toBeGreaterThanOrEqual(seeded.volumeIds.length);
    const recorded = new Set(outcome.artifacts.map((a) => (a.location as { snapshotId?: string }).snapshotId));
    for (const s of snaps) expect(recorded).toContain(s.id);
    expect((await incidentGroups(ec2, incident)).length).toBe(2);
    const rds = new RDSClient({
      endpoint: moto,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const dbSnaps = await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: seeded.dbInstance }));
    expect(dbSnaps.DBSnapshots?.filter((s) => s.DBSnapshotIdentifier?.includes(incident.toLowerCase()))).toHaveLength(
      1,
    );
  });

  it('30% of every service throttled: the capture still completes, S3 store included', async () => {
    const moto = inject('motoEndpoint');
    const ec2 = motoEc2(moto);
    const fleet = await seedFleet(ec2, suffix());
    const bucket = await createTestBucket();
    proxy = await startFaultProxy(moto, { seed: 30, rules: [{ fault: 'throttle', probability: 0.3 }] });
    // Production's SDK retry (no HOLDFAST_AWS_MAX_ATTEMPTS override): throttling answers mean "not done".
    const env = { ...motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint }), HOLDFAST_AWS_MAX_ATTEMPTS: undefined };
    const dir = mkdtempSync(join(tmpdir(), 'hf-throttle-'));
    const incident = testIncident('THR');
    const plan = await planCapture(
      {
        incident,
        store: `s3://${bucket}/cases`,
        forensicCidrs: ['10.99.0.0/24'],
        targets: { ec2: { instances: fleet.instanceIds } },
      },
      { env },
    );
    const outcome = await executePlan(plan, { env, stateDir: join(dir, 'state'), retry: { baseDelayMs: 50 } });
    expect(outcome.failures).toEqual([]);
    expect(outcome.status).toBe('complete');
    expect(outcome.manifestKey).toBeTruthy();
    const throttled = proxy.calls.filter((c) => c.fault === 'throttle');
    const services = new Set(throttled.map((c) => c.service));
    expect(services.has('ec2') && services.has('s3')).toBe(true);
    expect(throttled.length / proxy.calls.length).toBeGreaterThan(0.2);
    for (const groups of (await groupsNow(ec2, fleet)).values()) expect(groups).toHaveLength(1);
  });

  it('a black-holed call ends within the configured timeouts, as a listed failure', async () => {
    const moto = inject('motoEndpoint');
    const fleet = await seedFleet(motoEc2(moto), suffix(), 1, 1);
    proxy = await startFaultProxy(moto, { rules: [{ fault: 'hang', action: 'DescribeSnapshots' }] });
    const env = motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint, HOLDFAST_AWS_MAX_ATTEMPTS: '2' });
    const dir = mkdtempSync(join(tmpdir(), 'hf-hang-'));
    const plan = await planCapture(
      {
        incident: testIncident('HANG'),
        store: join(dir, 'es'),
        contain: false,
        connectTimeout: 1,
        requestTimeout: 1,
        targets: { ec2: { instances: fleet.instanceIds } },
      },
      { env },
    );
    const started = Date.now();
    const outcome = await executePlan(plan, {
      env,
      stateDir: join(dir, 'state'),
      retry: { maxAttempts: 2, baseDelayMs: 10 },
    });
    const elapsed = Date.now() - started;
    // 2 step attempts x 2 SDK attempts x 1 s, plus back-off and the rest of the capture.
    expect(elapsed).toBeLessThan(20_000);
    expect(outcome.status).toBe('partial');
    const failure = outcome.failures.find((f) => f.stepId.startsWith('ec2:snapshot/'));
    expect(failure?.message).toMatch(/timed out/);
    expect(proxy.calls.filter((c) => c.fault === 'hang').length).toBe(4);
  });
});
