/** Every call the EC2 provider sends (capture, dry run, release) is granted by policies/aws/ec2.json, and nothing more. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, inject, it } from 'vitest';
import { executePlan, planCapture, releaseContainment } from '../../src/index.js';
import { seedAws } from '../../src/drill/client.js';
import { createEc2Clients } from '../../providers/ec2/client.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import type { Provider } from '../../src/core/types.js';
import { clientDefaults, motoEnv, testIncident } from '../support/aws.js';
import { DESTRUCTIVE_ACTION, grantedActions, policyAllows, readPolicy, recordCommands } from '../support/policy.js';

/** Granted for EBS's own use of the key during CopySnapshot, not sent by holdfast. */
const IMPLIED = /^kms:/;
/**
 * Sent only with --hash-snapshots, which moto can serve only for StartSnapshot-made snapshots:
 * verify-policy.test.ts sends them in a capture and checks them against this file.
 */
const HASH_SNAPSHOTS_ONLY = /^ebs:/;
/** Sent only by a memory step (--memory, with an SSM agent): ec2-memory.test.ts checks them against this file. */
const MEMORY_ONLY = /^ssm:(SendCommand|GetCommandInvocation)$/;

describe('policies/aws/ec2.json', () => {
  it('grants exactly what the provider sends and nothing destructive', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const env = motoEnv();
    const clients = createEc2Clients({
      ...clientDefaults(),
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL!,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const sent = new Set<string>();
    recordCommands(clients.ec2 as never, 'ec2', sent);
    recordCommands(clients.autoscaling as never, 'autoscaling', sent);
    recordCommands(clients.elb as never, 'elasticloadbalancing', sent);
    recordCommands(clients.ebs as never, 'ebs', sent);
    recordCommands(clients.ssm as never, 'ssm', sent);
    const providers = [ec2Provider as unknown as Provider];
    const dir = mkdtempSync(join(tmpdir(), 'hf-ec2pol-'));
    const incident = testIncident('POL');
    const kms = new KMSClient({
      endpoint: env.AWS_ENDPOINT_URL!,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const key = (await kms.send(new CreateKeyCommand({ Description: 'forensic copies' }))).KeyMetadata!.Arn!;
    const plan = await planCapture(
      {
        incident,
        forensicCidrs: ['198.51.100.9/32'],
        store: join(dir, 'es'),
        targets: {
          ec2: { instances: [seeded.instanceId], lockSnapshotsDays: 7, copyToAccount: '111122223333', kmsKey: key },
        },
      },
      { providers, env, clients: { ec2: clients } },
    );
    await executePlan(plan, { providers, env, clients: { ec2: clients }, stateDir: dir, dryRun: true });
    const outcome = await executePlan(plan, { providers, env, clients: { ec2: clients }, stateDir: dir });
    expect(outcome.failures).toEqual([]);
    // moto has no LockSnapshot: the request was sent (recorded above) and the gap is a limitation.
    expect(outcome.limitations.join('\n')).toMatch(/LockSnapshot is not available here/);
    const copies = outcome.artifacts.filter((a) => a.type === 'ebs-snapshot-copy');
    expect(copies).toHaveLength(seeded.volumeIds.length + 1);
    expect(copies[0]!.location).toMatchObject({ kmsKeyId: key, sharedWith: '111122223333' });
    const released = await releaseContainment({
      incident,
      providers,
      env,
      clients: { ec2: clients },
      stateDir: dir,
      restoreProtection: true,
    });
    expect(released.failed).toEqual([]);
    expect(released.restored.map((c) => c.attribute)).toEqual(
      expect.arrayContaining(['groups', 'lifecycleState', 'disableApiTermination', 'deleteOnTermination']),
    );

    expect(sent).toContain('ec2:LockSnapshot');
    const policy = readPolicy('aws/ec2.json');
    for (const action of sent) expect(policyAllows(policy, action), `${action} must be granted`).toBe(true);
    const unused = grantedActions(policy).filter(
      (a) => !sent.has(a) && !IMPLIED.test(a) && !HASH_SNAPSHOTS_ONLY.test(a) && !MEMORY_ONLY.test(a),
    );
    expect(unused, 'granted but never sent').toEqual([]);
    expect(grantedActions(policy).filter((a) => DESTRUCTIVE_ACTION.test(a))).toEqual([]);
    for (const a of [
      'ec2:DeleteSnapshot',
      'ec2:TerminateInstances',
      'ec2:StopInstances',
      'autoscaling:TerminateInstanceInAutoScalingGroup',
    ]) {
      expect(policyAllows(policy, a), a).toBe(false);
    }
  });
});

describe('LockSnapshot request path (moto lacks the API; the answer is injected)', () => {
  it('locks every snapshot in compliance mode with a cool-off, and records no limitation when AWS answers', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const env = motoEnv();
    const clients = createEc2Clients({
      ...clientDefaults(),
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL!,
      maxAttempts: 1,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const locks: Record<string, unknown>[] = [];
    clients.ec2.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: { input: Record<string, unknown> }) => {
          if (context.commandName !== 'LockSnapshotCommand') return next(args);
          locks.push(args.input);
          return {
            output: {
              SnapshotId: args.input.SnapshotId,
              LockState: 'compliance-cooloff',
              LockExpiresOn: new Date('2030-01-01T00:00:00Z'),
              $metadata: {},
            },
          };
        }) as never,
      { step: 'initialize', name: 'answerLockSnapshot' } as never,
    );
    const providers = [ec2Provider as unknown as Provider];
    const dir = mkdtempSync(join(tmpdir(), 'hf-lock-'));
    const plan = await planCapture(
      {
        incident: testIncident('LOCK'),
        store: join(dir, 'es'),
        contain: false,
        targets: { ec2: { instances: [seeded.instanceId], lockSnapshotsDays: 30 } },
      },
      { providers, env, clients: { ec2: clients } },
    );
    const outcome = await executePlan(plan, { providers, env, clients: { ec2: clients }, stateDir: dir });
    expect(outcome.status).toBe('complete');
    expect(locks).toHaveLength(seeded.volumeIds.length + 1);
    for (const l of locks) expect(l).toMatchObject({ LockMode: 'compliance', LockDuration: 30, CoolOffPeriod: 24 });
    expect(outcome.limitations.join()).not.toMatch(/LockSnapshot/);
    // Locked by the snapshot step itself, while pending, and the lock is on each artifact.
    const snapshots = outcome.artifacts.filter((a) => a.type === 'ebs-snapshot');
    expect(snapshots.map((a) => a.location.snapshotId).sort()).toEqual(locks.map((l) => l.SnapshotId).sort());
    for (const a of snapshots) {
      expect(a.stepId).toBe(`ec2:snapshot/${seeded.instanceId}`);
      expect(a.preservation?.lock).toEqual({
        mode: 'compliance',
        durationDays: 30,
        coolOffHours: 24,
        lockState: 'compliance-cooloff',
        lockExpiresOn: '2030-01-01T00:00:00.000Z',
      });
    }
  });
});

describe('missing permission in a dry run', () => {
  it('names the denied action and the policy file that grants it', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const env = motoEnv();
    const clients = createEc2Clients({
      ...clientDefaults(),
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL!,
      maxAttempts: 1,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    // IAM is not enforced by moto here: answer this one call the way EC2 answers a missing permission.
    clients.ec2.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (context.commandName === 'ModifyNetworkInterfaceAttributeCommand') {
          throw Object.assign(new Error('You are not authorized to perform this operation.'), {
            name: 'UnauthorizedOperation',
            $metadata: { httpStatusCode: 403 },
          });
        }
        return next(args);
      }) as never,
      { step: 'initialize', name: 'denyEniSwap' } as never,
    );
    const providers = [ec2Provider as unknown as Provider];
    const dir = mkdtempSync(join(tmpdir(), 'hf-deny-'));
    const plan = await planCapture(
      {
        incident: testIncident('DENY'),
        forensicAccess: false,
        store: join(dir, 'es'),
        targets: { ec2: { instances: [seeded.instanceId] } },
      },
      { providers, env, clients: { ec2: clients } },
    );
    const outcome = await executePlan(plan, { providers, env, clients: { ec2: clients }, stateDir: dir, dryRun: true });
    expect(outcome.status).toBe('failed');
    const denied = outcome.preflight!.flatMap((r) =>
      r.checks.filter((c) => c.allowed === false).map((c) => ({ step: r.stepId, ...c })),
    );
    expect(denied.map((d) => d.action)).toEqual([
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:ModifyNetworkInterfaceAttribute',
    ]);
    expect(denied[0]).toMatchObject({
      step: `ec2:isolate/${seeded.instanceId}`,
      policyFile: 'policies/aws/ec2.json',
      detail: 'UnauthorizedOperation',
    });
  });
});
