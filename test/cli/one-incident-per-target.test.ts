/** Issue 20, case 3 against moto: a target held by another open incident is refused, or joined without touching that incident's work. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
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

async function state() {
  const [instances, enis] = await Promise.all([
    ec2.send(new DescribeInstancesCommand({ InstanceIds: [seeded.instanceId] })),
    ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: seeded.networkInterfaceIds })),
  ]);
  const tags = Object.fromEntries(
    (instances.Reservations![0]!.Instances![0]!.Tags ?? []).map((t) => [t.Key!, t.Value!]),
  );
  return {
    incidentTag: tags['holdfast:incident'],
    eniGroups: (enis.NetworkInterfaces ?? []).map((e) => (e.Groups ?? []).map((g) => g.GroupId!).sort()),
  };
}

const snapshotsOf = async (incident: string) =>
  (await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] })))
    .Snapshots?.length ?? 0;

const journalLines = (cwd: string, incident: string) =>
  readFileSync(join(cwd, '.holdfast', incident, 'journal.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('one incident per target (moto)', () => {
  it('refuses a target another open incident holds, joins it without touching its work, and journals the tags it found', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-hold-'));
    const env = motoEnv();
    const a = testIncident('HOLDA');
    const capture = (incident: string, ...extra: string[]) =>
      runCli(['capture', '--incident', incident, '--instance', seeded.instanceId, '--store', 'es', ...extra], {
        cwd,
        env,
      });
    expect((await capture(a, '--forensic-cidr', '198.51.100.7/32')).code).toBe(0);
    const held = await state();
    expect(held.incidentTag).toBe(a);
    const aSnapshots = await snapshotsOf(a);
    expect(aSnapshots).toBeGreaterThan(0);

    // A typo'd incident id on the same instance: refused before any change, naming the holder.
    const b = testIncident('HOLDB');
    const refused = await capture(b, '--forensic-cidr', '198.51.100.7/32');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(
        `--instance ${seeded.instanceId} is held by open incident ${a} \\(eni-[0-9a-f]+ is on its isolation group sg-`,
      ),
    );
    expect(refused.stderr).toContain(`or join it (--join ${a})`);
    expect(await state()).toEqual(held);
    expect(await snapshotsOf(b)).toBe(0);

    // Joined: the hold is recorded; no second snapshot set, no tag overwrite, no group swap.
    const joined = await capture(b, '--join', a, '--json');
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stderr).toContain(`${seeded.instanceId} is held by open incident ${a}`);
    expect(await state()).toEqual(held);
    expect(await snapshotsOf(b)).toBe(0);
    expect(await snapshotsOf(a)).toBe(aSnapshots);
    const bChanges = journalLines(cwd, b).filter((e) => e.type === 'change.recorded');
    expect(bChanges).toEqual([]);

    // Once A is released its isolation is gone: a new incident may capture, and its tag change's
    // `before` is the tags it found (A's), not null.
    expect((await runCli(['release', '--incident', a, '--approve'], { cwd, env })).code).toBe(0);
    const c = testIncident('HOLDC');
    expect((await capture(c, '--forensic-cidr', '198.51.100.7/32')).code).toBe(0);
    const tagChange = journalLines(cwd, c)
      .filter((e) => e.type === 'change.recorded')
      .map((e) => e.change as { resource: string; attribute: string; before: unknown })
      .find((ch) => ch.resource === seeded.instanceId && ch.attribute === 'tags')!;
    expect(tagChange.before).toEqual({ 'holdfast:incident': a, 'holdfast:do-not-delete': 'true' });
    expect((await state()).incidentTag).toBe(c);
  });
});
