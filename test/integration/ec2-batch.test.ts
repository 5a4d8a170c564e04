/**
 * Discovery of many instances is batched: one DescribeInstances for all ids, not one per instance;
 * the capture that follows reads instances and volumes ahead in one window and stays within 12
 * calls per instance plus a fixed count per incident.
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
import { describe, expect, inject, it } from 'vitest';
import { executePlan, planCapture } from '../../src/index.js';
import { createEc2Clients } from '../../providers/ec2/client.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import type { Provider } from '../../src/core/types.js';
import { clientDefaults, motoEnv, testIncident } from '../support/aws.js';

describe('batched discovery', () => {
  it('plans 20 instances with one DescribeInstances and one describe of each other kind, then captures them in at most 12 calls each', async () => {
    const endpoint = inject('motoEndpoint');
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    const ec2 = new EC2Client({ endpoint, region: 'us-east-1', credentials });
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.9.1.0/24' }))).Subnet!
      .SubnetId!;
    const sg = (
      await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: `b-${Date.now()}`, Description: 'b' }))
    ).GroupId!;
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        MinCount: 20,
        MaxCount: 20,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet, Groups: [sg] }],
      }),
    );
    const ids = run.Instances!.map((i) => i.InstanceId!);

    const clients = createEc2Clients({
      region: 'us-east-1',
      ...clientDefaults(),
      endpoint,
      credentials,
      maxAttempts: 1,
    });
    const counts = new Map<string, number>();
    clients.ec2.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
        counts.set(context.commandName!, (counts.get(context.commandName!) ?? 0) + 1);
        return next(args);
      }) as never,
      { step: 'initialize', name: 'count' } as never,
    );
    const dir = mkdtempSync(join(tmpdir(), 'hf-batch-'));
    const providers = [ec2Provider as unknown as Provider];
    const plan = await planCapture(
      {
        incident: testIncident('BATCH'),
        store: join(dir, 'es'),
        forensicCidrs: ['198.51.100.20/32'],
        targets: { ec2: { instances: ids } },
      },
      { providers, env: motoEnv(), clients: { ec2: clients } },
    );
    expect(plan.steps.filter((s) => s.action === 'snapshot')).toHaveLength(20);
    expect(plan.steps.filter((s) => s.action === 'isolation-group')).toHaveLength(1);
    expect(counts.get('DescribeInstancesCommand')).toBe(1);
    expect(counts.get('DescribeNetworkInterfacesCommand')).toBe(1);
    expect(counts.get('DescribeVolumesCommand')).toBe(1);

    counts.clear();
    const outcome = await executePlan(plan, {
      providers,
      env: motoEnv(),
      clients: { ec2: clients },
      stateDir: dir,
    });
    expect(outcome.status).toBe('complete');
    // Instances and volumes: one read-ahead window for all 20. No CreateTags per snapshot (each
    // snapshot's source is its own VolumeId): the evidence tags go in a few batched calls.
    expect(counts.get('DescribeInstancesCommand')).toBe(1);
    expect(counts.get('DescribeVolumesCommand')).toBe(1);
    expect(counts.get('CreateTagsCommand') ?? 0).toBeLessThan(10);
    // 12 per instance at most, plus the incident's own (isolation groups, snapshot index: < 20).
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(12 * 20 + 20);
  });
});

describe('--instance-tag', () => {
  it('finds every live instance with the tag, and names a tag that matches nothing', async () => {
    const { seedAws } = await import('../../src/drill/client.js');
    const suffix = Math.random().toString(16).slice(2, 8);
    const seeded = await seedAws(inject('motoEndpoint'), suffix);
    const providers = [ec2Provider as unknown as Provider];
    const plan = await planCapture(
      {
        incident: testIncident('TAG'),
        forensicAccess: false,
        store: '/tmp/unused',
        targets: { ec2: { instanceTags: [`Name=web-${suffix}`] } },
      },
      { providers, env: motoEnv() },
    );
    expect(plan.steps.filter((s) => s.action === 'snapshot').map((s) => s.inputs.instanceId)).toEqual([
      seeded.instanceId,
    ]);
    await expect(
      planCapture(
        {
          incident: testIncident('TAG'),
          store: '/tmp/unused',
          targets: { ec2: { instanceTags: [`Name=nothing-${suffix}`] } },
        },
        { providers, env: motoEnv() },
      ),
    ).rejects.toThrow(
      new RegExp(
        `targets\\.ec2\\.instanceTags\\[0\\]: Name=nothing-${suffix}: no running or stopped instance has this tag`,
      ),
    );
  });
});
