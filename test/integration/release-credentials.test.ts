/**
 * Issue 20, case 4 against moto: release restores service and leaves credential containment in force;
 * lifting it is its own decision, refused while another open incident holds the same user; a
 * re-containment after release revokes from its own time (a new aws:TokenIssueTime) and its time to
 * containment is measured from its own capture.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeNetworkInterfacesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, inject, it } from 'vitest';
import { seedAws } from '../../src/drill/client.js';
import { executePlan, planCapture, releaseContainment } from '../../src/index.js';
import type { CaptureEvent } from '../../src/core/events.js';
import { motoEnv, testIncident } from '../support/aws.js';

const config = () => ({
  region: 'us-east-1',
  endpoint: inject('motoEndpoint'),
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

const TRUST_EC2 = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

describe('release separates service from credentials (moto)', () => {
  it('keeps credentials contained by default, re-contains with a new cutoff, and lifts them only when no other incident holds them', async () => {
    const s = Math.random().toString(16).slice(2, 8);
    const iam = new IAMClient(config());
    const ec2 = new EC2Client(config());
    const seeded = await seedAws(inject('motoEndpoint'), s);
    const role = `app-${s}`;
    const user = `deploy-${s}`;
    await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: JSON.stringify(TRUST_EC2) }));
    await iam.send(new CreateUserCommand({ UserName: user }));
    const k1 = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!.AccessKeyId!;

    const attachedPolicies = async () =>
      ((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies ?? [])
        .map((p) => p.PolicyName!)
        .sort();
    const cutoffOf = async (name: string) => {
      const arn = `arn:aws:iam::123456789012:policy/holdfast/${name}`;
      const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!;
      const version = (
        await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.DefaultVersionId! }))
      ).PolicyVersion!;
      const document = JSON.parse(decodeURIComponent(version.Document!));
      return document.Statement[0].Condition.DateLessThan['aws:TokenIssueTime'] as string;
    };
    const keys = async () =>
      Object.fromEntries(
        ((await iam.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => [
          k.AccessKeyId!,
          k.Status!,
        ]),
      );
    const eniGroups = async () =>
      (
        (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: seeded.networkInterfaceIds })))
          .NetworkInterfaces ?? []
      ).map((e) => (e.Groups ?? []).map((g) => g.GroupId!));
    const snapshotsOf = async (incident: string) =>
      (
        await ec2.send(
          new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] }),
        )
      ).Snapshots?.length ?? 0;

    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-relcred-'));
    const a = testIncident('RELA');
    const capture = async (incident: string, targets: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      executePlan(await planCapture({ incident, store: join(dir, 'es'), targets, ...extra }, { env }), {
        env,
        stateDir: dir,
      });
    const targetsA = { ec2: { instances: [seeded.instanceId] }, iam: { roles: [role], users: [user] } };
    const first = await capture(a, targetsA, { forensicCidrs: ['198.51.100.7/32'] });
    expect(first.failures).toEqual([]);
    const isolated = await eniGroups();
    expect(new Set(isolated.flat()).size).toBe(1);
    expect(isolated.flat()).not.toContain(seeded.originalGroupId);
    const p1 = `holdfast-revoke-${a}-${role}`;
    expect(await attachedPolicies()).toEqual([p1]);
    const t1 = await cutoffOf(p1);
    expect(await keys()).toEqual({ [k1]: 'Inactive' });
    const snapshots = await snapshotsOf(a);
    expect(snapshots).toBeGreaterThan(0);

    // Default release: service back, credentials still contained, and the record says so.
    const service = await releaseContainment({ incident: a, env, stateDir: dir });
    expect(service.failed).toEqual([]);
    expect(await eniGroups()).toEqual(seeded.networkInterfaceIds.map(() => [seeded.originalGroupId]));
    expect(await attachedPolicies()).toEqual([p1]);
    expect(await keys()).toEqual({ [k1]: 'Inactive' });
    const kept = service.notes.map((n) => n.note).filter((n) => /credential containment stays in force/.test(n));
    expect(kept).toHaveLength(2);
    const journal = () =>
      readFileSync(service.journalPath!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as CaptureEvent);
    const keptEvents = journal().filter((e) => e.type === 'change.released' && e.kept);
    expect(keptEvents.map((e) => (e as { attribute: string }).attribute).sort()).toEqual([
      'accessKeyStatus',
      'revocationPolicy',
    ]);

    // Re-containment after the release: sessions issued before NOW are denied, not before the first capture.
    await new Promise((r) => setTimeout(r, 1100));
    const recontainedFrom = new Date();
    const second = await capture(a, targetsA, { forensicCidrs: ['198.51.100.7/32'] });
    expect(second.failures).toEqual([]);
    expect(await eniGroups()).toEqual(isolated);
    expect(await snapshotsOf(a)).toBe(snapshots);
    const p2 = `holdfast-revoke-${a}.2-${role}`;
    expect(await attachedPolicies()).toEqual([p1, p2].sort());
    expect(await cutoffOf(p1)).toBe(t1);
    const t2 = await cutoffOf(p2);
    expect(Date.parse(t2)).toBeGreaterThanOrEqual(Math.floor(recontainedFrom.getTime() / 1000) * 1000);
    expect(Date.parse(t2)).toBeGreaterThan(Date.parse(t1));
    // Time to containment per episode: measured from the re-capture, and the timeline says which episode.
    const timeline = second.manifest!.timeline;
    expect(timeline.episodes).toHaveLength(2);
    const instance = timeline.containment.find((c) => c.target === `ec2:${seeded.instanceId}`)!;
    expect(instance.episode).toBe(2);
    expect(instance.timeToContainmentMs).toBe(
      Date.parse(instance.containedAt) - Date.parse(timeline.episodes![1]!.startedAt),
    );
    expect(Date.parse(timeline.episodes![1]!.startedAt)).toBeGreaterThanOrEqual(recontainedFrom.getTime() - 5);

    // The attacker made a new key (AWS allows two per user); incident B contains the same user.
    const k3 = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!.AccessKeyId!;
    const b = testIncident('RELB');
    const captured = await capture(b, { iam: { users: [user] } });
    expect(captured.failures).toEqual([]);
    expect(await keys()).toEqual({ [k1]: 'Inactive', [k3]: 'Inactive' });

    // Lifting A's credential containment: the role (held by nobody else) is freed, both episodes;
    // the user's keys are refused while B holds the user.
    const lifted = await releaseContainment({ incident: a, env, stateDir: dir, restoreCredentials: true });
    expect(lifted.failed).toEqual([]);
    expect(await attachedPolicies()).toEqual([]);
    expect(await keys()).toEqual({ [k1]: 'Inactive', [k3]: 'Inactive' });
    expect(lifted.notes.map((n) => n.note).join('\n')).toMatch(
      new RegExp(`user ${user}'s access key ${k1}: refused to lift credential containment: open incident ${b} holds`),
    );
    expect(await eniGroups()).toEqual(seeded.networkInterfaceIds.map(() => [seeded.originalGroupId]));

    // B lifts its own; then A's keys are no longer held by anyone and come back.
    await releaseContainment({ incident: b, env, stateDir: dir, restoreCredentials: true });
    expect(await keys()).toEqual({ [k1]: 'Inactive', [k3]: 'Active' });
    const last = await releaseContainment({ incident: a, env, stateDir: dir, restoreCredentials: true });
    expect(last.failed).toEqual([]);
    expect(await keys()).toEqual({ [k1]: 'Active', [k3]: 'Active' });
  });
});
