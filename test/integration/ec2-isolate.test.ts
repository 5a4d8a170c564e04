/** Per-ENI isolation when the world moves: interrupted between the two swaps, interfaces attached or detached after planning. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DetachNetworkInterfaceCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { describe, expect, inject, it } from 'vitest';
import { executePlan, planCapture, releaseContainment, type Provider } from '../../src/index.js';
import { seedAws } from '../../src/drill/client.js';
import { createEc2Clients } from '../../providers/ec2/client.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { clientDefaults, motoEnv, testIncident } from '../support/aws.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const providers = [ec2Provider as unknown as Provider];
const FORENSIC = ['198.51.100.20/32'];

function testEc2(): EC2Client {
  return new EC2Client({ endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials, maxAttempts: 1 });
}

async function groupsOf(ec2: EC2Client, enis: string[]): Promise<Record<string, string[]>> {
  const res = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: enis }));
  return Object.fromEntries(
    (res.NetworkInterfaces ?? []).map((e) => [e.NetworkInterfaceId!, (e.Groups ?? []).map((g) => g.GroupId!).sort()]),
  );
}

async function groupNamed(ec2: EC2Client, vpcId: string, name: string): Promise<string> {
  const res = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [name] },
      ],
    }),
  );
  return res.SecurityGroups![0]!.GroupId!;
}

describe('EC2 isolation, interrupted between the convert and the isolation swap', () => {
  it('resumes to the isolation group and release restores the original groups, never the convert group', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const env = motoEnv();
    const ec2 = testEc2();
    const incident = testIncident('MIDSWAP');
    const dir = mkdtempSync(join(tmpdir(), 'hf-midswap-'));
    const store = join(dir, 'es');
    const clients = createEc2Clients({
      ...clientDefaults(),
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL!,
      maxAttempts: 1,
      credentials,
    });
    let swaps = 0;
    let crash = true;
    // The second swap (first ENI: convert → isolation) never leaves: the process "dies" between the two.
    clients.ec2.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (context.commandName === 'ModifyNetworkInterfaceAttributeCommand' && crash && ++swaps === 2) {
          throw Object.assign(new Error('connection reset'), {
            name: 'InvalidParameterValue',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      }) as never,
      { step: 'initialize', name: 'dieBetweenSwaps' } as never,
    );
    const input = { incident, forensicCidrs: FORENSIC, store, targets: { ec2: { instances: [seeded.instanceId] } } };
    const first = await executePlan(await planCapture(input, { providers, env, clients: { ec2: clients } }), {
      providers,
      env,
      clients: { ec2: clients },
      stateDir: dir,
    });
    expect(first.status).toBe('partial');
    const convert = await groupNamed(ec2, seeded.vpcId, `holdfast-convert-${incident}-${seeded.vpcId}`);
    const [primary] = seeded.networkInterfaceIds;
    expect((await groupsOf(ec2, [primary!]))[primary!]).toEqual([convert]);

    // The responder runs the same capture again: discovery now sees the first ENI on the convert group.
    crash = false;
    const second = await executePlan(await planCapture(input, { providers, env, clients: { ec2: clients } }), {
      providers,
      env,
      clients: { ec2: clients },
      stateDir: dir,
    });
    expect(second.status).toBe('complete');
    const isolation = await groupNamed(ec2, seeded.vpcId, `holdfast-isolation-${incident}-${seeded.vpcId}`);
    for (const groups of Object.values(await groupsOf(ec2, seeded.networkInterfaceIds)))
      expect(groups).toEqual([isolation]);
    expect(second.changes.filter((c) => c.attribute === 'groups').map((c) => c.before)).toEqual(
      seeded.networkInterfaceIds.map(() => [seeded.originalGroupId]),
    );

    const released = await releaseContainment({ incident, providers, env, clients: { ec2: clients }, stateDir: dir });
    expect(released.failed).toEqual([]);
    for (const groups of Object.values(await groupsOf(ec2, seeded.networkInterfaceIds)))
      expect(groups).toEqual([seeded.originalGroupId]);
  });

  it('without the journal, an ENI found on the convert group is isolated and release leaves it isolated rather than open', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const env = motoEnv();
    const ec2 = testEc2();
    const incident = testIncident('NOJOURNAL');
    const clients = createEc2Clients({
      ...clientDefaults(),
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL!,
      maxAttempts: 1,
      credentials,
    });
    let swaps = 0;
    clients.ec2.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (context.commandName === 'ModifyNetworkInterfaceAttributeCommand' && ++swaps === 2) {
          throw Object.assign(new Error('connection reset'), {
            name: 'InvalidParameterValue',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      }) as never,
      { step: 'initialize', name: 'dieBetweenSwaps' } as never,
    );
    const lost = mkdtempSync(join(tmpdir(), 'hf-lost-'));
    await executePlan(
      await planCapture(
        {
          incident,
          forensicCidrs: FORENSIC,
          store: join(lost, 'es'),
          targets: { ec2: { instances: [seeded.instanceId] } },
        },
        { providers, env, clients: { ec2: clients } },
      ),
      {
        providers,
        env,
        clients: { ec2: clients },
        stateDir: lost,
      },
    );

    // Another machine, another store: nothing remembers the first ENI's original groups.
    const dir = mkdtempSync(join(tmpdir(), 'hf-fresh-'));
    const outcome = await executePlan(
      await planCapture(
        {
          incident,
          forensicCidrs: FORENSIC,
          store: join(dir, 'es'),
          targets: { ec2: { instances: [seeded.instanceId] } },
        },
        { providers, env },
      ),
      { providers, env, stateDir: dir },
    );
    expect(outcome.status).toBe('complete');
    const [primary, ...others] = seeded.networkInterfaceIds;
    expect(outcome.changes.find((c) => c.resource === primary && c.attribute === 'groups')?.before).toBeNull();

    const released = await releaseContainment({ incident, providers, env, stateDir: dir });
    expect(released.notes.map((n) => n.note).join('\n')).toMatch(
      new RegExp(`${primary}'s original groups were not recorded`),
    );
    const isolation = await groupNamed(ec2, seeded.vpcId, `holdfast-isolation-${incident}-${seeded.vpcId}`);
    const after = await groupsOf(ec2, seeded.networkInterfaceIds);
    expect(after[primary!]).toEqual([isolation]);
    for (const eni of others) expect(after[eni]).toEqual([seeded.originalGroupId]);
  });
});

describe('EC2 isolation of interfaces that changed after planning', () => {
  it('isolates an interface attached since discovery and records one detached since as a limitation', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const env = motoEnv();
    const ec2 = testEc2();
    const incident = testIncident('LATEENI');
    const dir = mkdtempSync(join(tmpdir(), 'hf-lateeni-'));
    const plan = await planCapture(
      {
        incident,
        forensicCidrs: FORENSIC,
        store: join(dir, 'es'),
        targets: { ec2: { instances: [seeded.instanceId] } },
      },
      { providers, env },
    );

    const detached = seeded.networkInterfaceIds[2]!;
    const attachment = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [detached] })))
      .NetworkInterfaces![0]!.Attachment!.AttachmentId!;
    // Test set-up only (the provider's clients are guarded and could not send this).
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachment }));
    const instance = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [seeded.instanceId] })))
      .Reservations![0]!.Instances![0]!;
    const late = (
      await ec2.send(
        new CreateNetworkInterfaceCommand({ SubnetId: instance.SubnetId!, Groups: [seeded.originalGroupId] }),
      )
    ).NetworkInterface!.NetworkInterfaceId!;
    await ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: late, InstanceId: seeded.instanceId, DeviceIndex: 3 }),
    );

    const outcome = await executePlan(plan, { providers, env, stateDir: dir });
    expect(outcome.status).toBe('complete');
    const isolation = await groupNamed(ec2, seeded.vpcId, `holdfast-isolation-${incident}-${seeded.vpcId}`);
    const groups = await groupsOf(ec2, [...seeded.networkInterfaceIds, late]);
    expect(groups[late]).toEqual([isolation]);
    expect(groups[detached]).toEqual([seeded.originalGroupId]);
    expect(outcome.changes).toContainEqual(
      expect.objectContaining({
        resource: late,
        attribute: 'groups',
        before: [seeded.originalGroupId],
        after: [isolation],
      }),
    );
    expect(outcome.limitations.join('\n')).toContain(
      `${detached} was detached from ${seeded.instanceId} after discovery and was not isolated`,
    );
  });
});
