/** Issue 20, case 1: containment without forensic access is a decision the responder states, never a default. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { seedAws, type SeededAws } from '../../src/drill/client.js';
import { motoEnv, testEc2, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';

let seeded: SeededAws;
let ec2: EC2Client;

beforeAll(async () => {
  ec2 = await testEc2();
  seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
});

/** What a capture of the seeded instance could have changed: its tags, its interfaces' groups, snapshots of the incident. */
async function accountState(incident: string) {
  const [instances, enis, snaps, groups] = await Promise.all([
    ec2.send(new DescribeInstancesCommand({ InstanceIds: [seeded.instanceId] })),
    ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: seeded.networkInterfaceIds })),
    ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] })),
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] })),
  ]);
  return {
    tags: instances.Reservations![0]!.Instances![0]!.Tags ?? [],
    volumes: instances.Reservations![0]!.Instances![0]!.BlockDeviceMappings?.length ?? 0,
    eniGroups: (enis.NetworkInterfaces ?? []).map((e) => (e.Groups ?? []).map((g) => g.GroupId!).sort()),
    snapshots: snaps.Snapshots?.length ?? 0,
    groups: groups.SecurityGroups ?? [],
  };
}

describe('forensic access is a decision (moto)', () => {
  it('capture, dry run and plan with containment and no --forensic-cidr exit 2 naming both inputs, changing nothing', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-fa-'));
    const incident = testIncident('FA');
    const before = await accountState(incident);
    const args = ['--incident', incident, '--instance', seeded.instanceId, '--store', 'es'];
    for (const command of [['capture'], ['capture', '--dry-run'], ['plan']]) {
      const res = await runCli([...command, ...args], { cwd, env: motoEnv() });
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toMatch(
        /--forensic-cidr none given, and containment would leave the isolation groups admitting nobody, forensic hosts included: give the forensic hosts' CIDRs, or decide to contain without forensic access \(--no-forensic-access\)/,
      );
    }
    expect(await accountState(incident)).toEqual(before);
    expect(before.groups).toEqual([]);
    expect(before.snapshots).toBe(0);
  });

  it('--no-forensic-access contains with an isolation group that admits nobody, and the record says it was decided', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-fa-'));
    const incident = testIncident('FANO');
    const res = await runCli(
      ['capture', '--incident', incident, '--instance', seeded.instanceId, '--no-forensic-access', '--store', 'es'],
      { cwd, env: motoEnv() },
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(
      'limitation: forensic access declined: the isolation groups admit nobody, forensic hosts included (contained without forensic CIDRs, as decided)',
    );
    const after = await accountState(incident);
    const isolation = after.groups.find((g) =>
      g.Tags?.some((t) => t.Key === 'holdfast:role' && t.Value === 'isolation'),
    )!;
    expect(isolation.IpPermissions).toEqual([]);
    expect(isolation.IpPermissionsEgress).toEqual([]);
    expect(after.eniGroups).toEqual(seeded.networkInterfaceIds.map(() => [isolation.GroupId]));
    expect(after.snapshots).toBe(after.volumes);
    expect(after.volumes).toBeGreaterThan(1);

    // Both at once is not a decision: refused before anything else.
    const both = await runCli(
      [
        'capture',
        '--incident',
        testIncident('FABOTH'),
        '--instance',
        seeded.instanceId,
        '--no-forensic-access',
        '--forensic-cidr',
        '198.51.100.7/32',
      ],
      { cwd, env: motoEnv() },
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(
      /--no-forensic-access and forensic CIDRs \(--forensic-cidr\) are both given: choose one/,
    );
  });
});
