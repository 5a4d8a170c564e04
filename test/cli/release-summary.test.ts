/**
 * Release counts every change: restored, left alone (and why), failed. Its dry run makes the same
 * judgement read-only, so it promises what the run does: two interfaces someone moved to their own
 * group since capture are "left alone" in both, and stay on that group.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecurityGroupCommand, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { describe, expect, inject, it } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';
import { groupsNow, motoEc2, seedFleet } from '../support/fleet.js';

describe('release summary', () => {
  it('dry run and run agree on what is left alone; the summary counts it with why', async () => {
    const ec2 = motoEc2(inject('motoEndpoint'));
    const suffix = Math.random().toString(16).slice(2, 8);
    const fleet = await seedFleet(ec2, suffix, 1, 3);
    const cwd = mkdtempSync(join(tmpdir(), 'hf-relsum-'));
    const env = motoEnv();
    const incident = testIncident('RELSUM');
    const capture = await runCli(
      [
        'capture',
        '--incident',
        incident,
        '--instance',
        fleet.instanceIds[0]!,
        '--forensic-cidr',
        '203.0.113.7/32',
        '--store',
        'es',
      ],
      { cwd, env },
    );
    expect(capture.code, capture.stderr).toBe(0);
    // A responder moves two interfaces onto their own forensic group after capture.
    const forensic = (
      await ec2.send(
        new CreateSecurityGroupCommand({ VpcId: fleet.vpcId, GroupName: `forensic-${suffix}`, Description: 'by hand' }),
      )
    ).GroupId!;
    const enis = [...fleet.original.keys()].sort();
    const moved = enis.slice(0, 2);
    const untouched = enis[2]!;
    for (const eni of moved)
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [forensic] }));

    const dry = await runCli(['release', '--incident', incident, '--approve', '--dry-run'], { cwd, env });
    expect(dry.code, dry.stderr).toBe(0);
    for (const eni of moved)
      expect(dry.stderr).toMatch(new RegExp(`would leave ${eni} groups alone: ${eni}: it is on ${forensic} now`));
    expect(dry.stderr).toMatch(new RegExp(`would restore ${untouched} groups`));
    for (const eni of moved) expect(dry.stderr).not.toMatch(new RegExp(`would restore ${eni} groups`));
    const promised = /release dry run: (\d+) changes would be undone, 2 left alone \(why above\)/.exec(dry.stderr);
    expect(promised, dry.stderr).not.toBeNull();

    const real = await runCli(['release', '--incident', incident, '--approve', '--json'], { cwd, env });
    expect(real.code, real.stderr).toBe(0);
    for (const eni of moved)
      expect(real.stderr).toMatch(new RegExp(`left alone: ${eni} groups — ${eni}: it is on ${forensic} now`));
    const outcome = real.lines.find((l) => l.type === 'outcome') as {
      restored: unknown[];
      leftAlone: { change: { resource: string; attribute: string } }[];
      failed: unknown[];
    };
    expect(
      outcome.leftAlone
        .filter((l) => l.change.attribute === 'groups')
        .map((l) => l.change.resource)
        .sort(),
    ).toEqual(moved);
    // The run restored exactly what the dry run promised.
    expect(outcome.restored).toHaveLength(Number(promised![1]));
    expect(real.stderr).toContain(
      `release complete: ${outcome.restored.length} restored, left alone: ${outcome.leftAlone.length} (why above), 0 failed`,
    );
    const now = await groupsNow(ec2, fleet);
    for (const eni of moved) expect(now.get(eni)).toEqual([forensic]);
    expect(now.get(untouched)).toEqual(fleet.original.get(untouched));
  });
});
