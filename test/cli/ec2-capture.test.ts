/** Issue 3's scenario through the CLI against moto: preserve, snapshot, isolate, re-run, dry run, release. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeAutoScalingInstancesCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  CreateSecurityGroupCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { seedAws, type SeededAws } from '../../src/drill/client.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';

const FORENSIC = ['198.51.100.7/32', '198.51.100.8/32'];
let seeded: SeededAws;
let cwd: string;
let incident: string;
let ec2: EC2Client;
const common = () => ({
  endpoint: inject('motoEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

async function eniGroups(): Promise<Record<string, string[]>> {
  const res = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: seeded.networkInterfaceIds }));
  return Object.fromEntries(
    (res.NetworkInterfaces ?? []).map((e) => [e.NetworkInterfaceId!, (e.Groups ?? []).map((g) => g.GroupId!).sort()]),
  );
}

async function incidentSnapshots() {
  return (
    (await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] })))
      .Snapshots ?? []
  );
}

/** Everything a capture could change, as one string. */
async function describeAll(): Promise<string> {
  const elb = new ElasticLoadBalancingV2Client(common());
  const [instances, enis, groups, snaps, volumes, asg, ...targets] = await Promise.all([
    ec2.send(new DescribeInstancesCommand({ InstanceIds: [seeded.instanceId] })),
    ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: seeded.networkInterfaceIds })),
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [seeded.vpcId] }] })),
    ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] })),
    ec2.send(new DescribeVolumesCommand({ VolumeIds: seeded.volumeIds })),
    new AutoScalingClient(common()).send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [seeded.instanceId] })),
    ...seeded.targetGroupArns.map((TargetGroupArn) => elb.send(new DescribeTargetHealthCommand({ TargetGroupArn }))),
  ]);
  const strip = (o: { $metadata?: unknown }) => ({ ...o, $metadata: undefined });
  return JSON.stringify([instances, enis, groups, snaps, volumes, asg, ...targets].map(strip));
}

beforeAll(async () => {
  ec2 = new EC2Client(common());
  seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
  cwd = mkdtempSync(join(tmpdir(), 'hf-ec2-'));
  incident = testIncident('EC2');
});

const captureArgs = () => [
  'capture',
  '--incident',
  incident,
  '--instance',
  seeded.instanceId,
  ...FORENSIC.flatMap((c) => ['--forensic-cidr', c]),
  '--store',
  'es',
  '--json',
];

describe('EC2 capture through the CLI (moto)', () => {
  it('--dry-run changes nothing and reports a permission result for every step', async () => {
    const before = await describeAll();
    const res = await runCli([...captureArgs(), '--dry-run'], { cwd, env: motoEnv() });
    expect(res.code).toBe(0);
    const results = res.lines.filter((l) => l.type === 'preflight.result') as {
      stepId: string;
      result: { checks: { action: string; allowed: unknown }[] };
    }[];
    expect(results.map((r) => r.stepId).sort()).toEqual(
      ['tag', 'protect', 'standby', 'describe', 'snapshot', 'deregister', 'isolate', 'settle']
        .map((a) => `ec2:${a}/${seeded.instanceId}`)
        .concat(`ec2:isolation-group/${seeded.vpcId}`)
        .sort(),
    );
    const ec2Checks = results.flatMap((r) => r.result.checks).filter((c) => c.action.startsWith('ec2:'));
    expect(ec2Checks.length).toBeGreaterThanOrEqual(7);
    // moto has no GetConsoleScreenshot (an HTML 500): its probe is the one that cannot be proven here.
    expect(ec2Checks.filter((c) => c.allowed !== true)).toEqual([
      expect.objectContaining({
        action: 'ec2:GetConsoleScreenshot',
        allowed: 'unknown',
        detail: expect.stringMatching(/^could not check: .*not an AWS answer/),
      }),
    ]);
    expect(await describeAll()).toBe(before);
  });

  it('preserves, snapshots and isolates: every ENI ends with exactly the isolation group', async () => {
    const original = await eniGroups();
    const res = await runCli(captureArgs(), { cwd, env: motoEnv() });
    expect(res.stderr).toContain('capture complete');
    expect(res.code).toBe(0);

    const groups = await eniGroups();
    const isolationId = [...new Set(Object.values(groups).flat())];
    expect(isolationId).toHaveLength(1);
    for (const eni of seeded.networkInterfaceIds) expect(groups[eni]).toEqual(isolationId);
    const sg = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: isolationId }))).SecurityGroups![0]!;
    expect(sg.GroupName).toBe(`holdfast-isolation-${incident}-${seeded.vpcId}`);
    expect(sg.IpPermissionsEgress ?? []).toEqual([]);
    expect((sg.IpPermissions ?? []).flatMap((p) => (p.IpRanges ?? []).map((r) => r.CidrIp)).sort()).toEqual(FORENSIC);

    const attr = (Attribute: 'disableApiTermination' | 'instanceInitiatedShutdownBehavior') =>
      ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: seeded.instanceId, Attribute }));
    expect((await attr('disableApiTermination')).DisableApiTermination?.Value).toBe(true);
    expect((await attr('instanceInitiatedShutdownBehavior')).InstanceInitiatedShutdownBehavior?.Value).toBe('stop');
    const asg = await new AutoScalingClient(common()).send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: [seeded.instanceId] }),
    );
    expect(asg.AutoScalingInstances?.[0]?.LifecycleState).toBe('Standby');
    const mappings =
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [seeded.instanceId] }))).Reservations![0]!
        .Instances![0]!.BlockDeviceMappings ?? [];
    expect(mappings).toHaveLength(seeded.volumeIds.length + 1);
    for (const m of mappings) expect(m.Ebs?.DeleteOnTermination).toBe(false);
    const admin = await new ElasticLoadBalancingV2Client(common()).send(
      new DescribeTargetHealthCommand({ TargetGroupArn: seeded.targetGroupArns[1]! }),
    );
    expect((admin.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id)).not.toContain(seeded.instanceId);

    const snaps = await incidentSnapshots();
    for (const volume of seeded.volumeIds) expect(snaps.filter((s) => s.VolumeId === volume)).toHaveLength(1);
    for (const s of snaps) {
      expect(s.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'holdfast:incident', Value: incident },
          { Key: 'holdfast:step', Value: `ec2:snapshot/${seeded.instanceId}` },
          { Key: 'holdfast:do-not-delete', Value: 'true' },
        ]),
      );
    }

    const manifest = (
      res.lines.at(-1) as {
        manifest: {
          artifacts: { type: string; location: { snapshotId?: string }; source: { volumeId?: string | null } }[];
          changes: { resource: string; attribute: string; before: unknown; after: unknown }[];
          limitations: string[];
        };
      }
    ).manifest;
    expect(
      manifest.artifacts
        .filter((a) => a.type === 'ebs-snapshot')
        .map((a) => a.location.snapshotId)
        .sort(),
    ).toEqual(snaps.map((s) => s.SnapshotId).sort());
    // The source of each snapshot is EC2's own VolumeId: one of the instance's volumes (root
    // included), one snapshot per volume (checked above), and the manifest records the same volume.
    const attached = mappings.map((m) => m.Ebs?.VolumeId);
    expect(snaps).toHaveLength(attached.length);
    for (const s of snaps) {
      expect(attached).toContain(s.VolumeId);
      const artifact = manifest.artifacts.find(
        (a) => a.type === 'ebs-snapshot' && a.location.snapshotId === s.SnapshotId,
      );
      expect(artifact?.source.volumeId).toBe(s.VolumeId);
    }
    for (const eni of seeded.networkInterfaceIds) {
      expect(manifest.changes).toContainEqual(
        expect.objectContaining({ resource: eni, attribute: 'groups', before: original[eni], after: isolationId }),
      );
    }
    expect(manifest.changes).toContainEqual(
      expect.objectContaining({
        resource: seeded.instanceId,
        attribute: 'disableApiTermination',
        before: false,
        after: true,
      }),
    );
    // Only the root volume was set to go with the instance; the attached data volumes already stayed.
    expect(manifest.changes.filter((c) => c.attribute === 'deleteOnTermination')).toEqual([
      expect.objectContaining({ resource: `${seeded.instanceId}:/dev/sda1`, before: true, after: false }),
    ]);
    expect(manifest.changes).toContainEqual(
      expect.objectContaining({
        resource: `asg:${seeded.autoScalingGroup}/${seeded.instanceId}`,
        attribute: 'lifecycleState',
        before: 'InService',
        after: 'Standby',
      }),
    );
    expect(manifest.changes).toContainEqual(
      expect.objectContaining({
        resource: seeded.targetGroupArns[1],
        attribute: `target:${seeded.instanceId}:8080`,
        before: 'registered',
        after: 'deregistered',
      }),
    );
    expect(manifest.limitations.join('\n')).toMatch(/NAT gateways/);
    expect(manifest.limitations.join('\n')).toMatch(/metadata service/);
  });

  it('running the same capture again creates nothing new', async () => {
    const snapsBefore = (await incidentSnapshots()).map((s) => s.SnapshotId).sort();
    const groupsBefore = await describeAll();
    const res = await runCli(captureArgs(), { cwd, env: motoEnv() });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('already captured and sealed');
    // A fresh state dir reads the journal back from the store: still nothing new.
    const fresh = await runCli([...captureArgs(), '--state-dir', 'other'], { cwd, env: motoEnv() });
    expect(fresh.code).toBe(0);
    // Another machine with another store and no journal: every step runs against what exists, finds
    // it, and changes nothing besides re-applying the same tags.
    const elsewhere = await runCli(
      [...captureArgs().map((a) => (a === 'es' ? 'other-es' : a)), '--state-dir', 'other-state'],
      { cwd, env: motoEnv() },
    );
    expect(elsewhere.code).toBe(0);
    const recorded = elsewhere.lines.filter((l) => l.type === 'change.recorded') as { change: { attribute: string } }[];
    expect(recorded.map((l) => l.change.attribute).filter((a) => a !== 'tags')).toEqual([]);
    expect(elsewhere.lines.filter((l) => l.type === 'step.done').length).toBeGreaterThan(0);
    expect((await incidentSnapshots()).map((s) => s.SnapshotId).sort()).toEqual(snapsBefore);
    const groups =
      (
        await ec2.send(
          new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] }),
        )
      ).SecurityGroups ?? [];
    expect(groups).toHaveLength(2);
    expect(JSON.parse(await describeAll())[2]).toEqual(JSON.parse(groupsBefore)[2]);
  });

  it("release restores every ENI's original groups and leaves Standby; the groups and snapshots stay", async () => {
    const res = await runCli(['release', '--incident', incident, '--approve'], { cwd, env: motoEnv() });
    expect(res.code).toBe(0);
    const groups = await eniGroups();
    for (const eni of seeded.networkInterfaceIds) expect(groups[eni]).toEqual([seeded.originalGroupId]);
    const asg = await new AutoScalingClient(common()).send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: [seeded.instanceId] }),
    );
    expect(asg.AutoScalingInstances?.[0]?.LifecycleState).toBe('InService');
    const admin = await new ElasticLoadBalancingV2Client(common()).send(
      new DescribeTargetHealthCommand({ TargetGroupArn: seeded.targetGroupArns[1]! }),
    );
    expect((admin.TargetHealthDescriptions ?? []).map((d) => `${d.Target?.Id}:${d.Target?.Port}`)).toContain(
      `${seeded.instanceId}:8080`,
    );
    expect((await incidentSnapshots()).length).toBe(seeded.volumeIds.length + 1);
    const sgs =
      (
        await ec2.send(
          new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] }),
        )
      ).SecurityGroups ?? [];
    expect(sgs).toHaveLength(2);
  });

  it('capturing again after release isolates again without retaking snapshots; a second release restores again', async () => {
    const snapsBefore = (await incidentSnapshots()).map((s) => s.SnapshotId).sort();
    const res = await runCli(captureArgs(), { cwd, env: motoEnv() });
    expect(res.code).toBe(0);
    const isolation = ((
      await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'tag:holdfast:incident', Values: [incident] },
            { Name: 'tag:holdfast:role', Values: ['isolation'] },
          ],
        }),
      )
    ).SecurityGroups ?? [])[0]!.GroupId!;
    const groups = await eniGroups();
    for (const eni of seeded.networkInterfaceIds) expect(groups[eni]).toEqual([isolation]);
    const asg = await new AutoScalingClient(common()).send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: [seeded.instanceId] }),
    );
    expect(asg.AutoScalingInstances?.[0]?.LifecycleState).toBe('Standby');
    expect((await incidentSnapshots()).map((s) => s.SnapshotId).sort()).toEqual(snapsBefore);

    // Meanwhile a responder moves one interface to their own forensic group: release leaves that one alone.
    const forensic = await ec2.send(
      new CreateSecurityGroupCommand({
        VpcId: seeded.vpcId,
        GroupName: `forensic-${incident}`,
        Description: 'analyst access',
      }),
    );
    const [moved, ...others] = seeded.networkInterfaceIds as [string, ...string[]];
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: moved, Groups: [forensic.GroupId!] }),
    );
    const release = await runCli(['release', '--incident', incident, '--approve'], { cwd, env: motoEnv() });
    expect(release.code).toBe(0);
    expect(release.stderr).toContain(
      `${moved}: it is on ${forensic.GroupId} now, not on groups holdfast set for ${incident}`,
    );
    const restored = await eniGroups();
    expect(restored[moved]).toEqual([forensic.GroupId]);
    for (const eni of others) expect(restored[eni]).toEqual([seeded.originalGroupId]);
  });

  it('an unknown instance id is a clear error before any change', async () => {
    const res = await runCli(
      ['capture', '--incident', testIncident('NOPE'), '--instance', 'i-0123456789abcdef0', '--store', 'es'],
      { cwd, env: motoEnv() },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--instance.*i-0123456789abcdef0/);
  });
});
