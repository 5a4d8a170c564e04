/**
 * A capture killed (SIGKILL) right after each journal line in turn — every event boundary of a
 * two-instance, two-interface capture — then run again: no second snapshot or group, every
 * interface isolated, verify passes, and release puts back each interface's exact groups.
 * The kill point comes from the documented test hook HOLDFAST_CRASH_AT_EVENT. Every boundary runs its
 * own fleet and incident, so they run a few at a time.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, inject, it } from 'vitest';
import { createFsStore, releaseContainment, verifyEvidence } from '../../src/index.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';
import { groupsNow, incidentGroups, incidentSnapshots, motoEc2, seedFleet, type Fleet } from '../support/fleet.js';

const FORENSIC = '10.99.0.0/24';
/** Boundaries checked at once: each runs its own fleet and incident, so they do not interact. */
const PARALLEL = 4;

function workspace() {
  const cwd = mkdtempSync(join(tmpdir(), 'hf-crash-'));
  return { cwd, env: motoEnv({ HOLDFAST_STATE_DIR: join(cwd, 'state') }) };
}

const captureArgs = (incident: string, fleet: Fleet) => [
  'capture',
  '--incident',
  incident,
  ...fleet.instanceIds.flatMap((i) => ['--instance', i]),
  '--forensic-cidr',
  FORENSIC,
  '--store',
  'es',
  '--json',
];

const journalOf = (cwd: string, incident: string) => join(cwd, 'state', incident, 'journal.ndjson');
const lineCount = (path: string) => {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

/** Everything the issue promises after a crash and a re-run; returns the problems found. */
async function crashAndRecover(k: number): Promise<string[]> {
  const ec2 = motoEc2(inject('motoEndpoint'));
  const problems: string[] = [];
  const fleet = await seedFleet(ec2, `k${k}-${Math.random().toString(16).slice(2, 6)}`);
  const incident = testIncident(`K${k}`);
  const { cwd, env } = workspace();
  const crashed = await runCli(captureArgs(incident, fleet), {
    cwd,
    env: { ...env, HOLDFAST_CRASH_AT_EVENT: String(k) },
  });
  const linesAtCrash = lineCount(journalOf(cwd, incident));
  if (crashed.code !== 137) problems.push(`k=${k}: the crash run exited ${crashed.code}, not by SIGKILL`);
  if (linesAtCrash !== k) problems.push(`k=${k}: ${linesAtCrash} journal lines at the crash, expected exactly ${k}`);

  const again = await runCli(captureArgs(incident, fleet), { cwd, env });
  if (again.code !== 0) problems.push(`k=${k}: the re-run exited ${again.code}: ${again.stderr.slice(-400)}`);
  const outcome = again.lines.find((l) => l.type === 'outcome') as
    { manifest?: { artifacts: { type: string; location: { snapshotId?: string } }[] } } | undefined;

  const volumes = (
    await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: fleet.instanceIds }] }),
    )
  ).Volumes!.map((v) => v.VolumeId!);
  const snaps = await incidentSnapshots(ec2, incident);
  for (const v of volumes) {
    const n = snaps.filter((s) => s.volumeId === v).length;
    if (n !== 1) problems.push(`k=${k}: ${n} snapshots of ${v}`);
  }
  const inManifest = new Set(
    (outcome?.manifest?.artifacts ?? []).filter((a) => a.type === 'ebs-snapshot').map((a) => a.location.snapshotId),
  );
  for (const s of snaps) if (!inManifest.has(s.id)) problems.push(`k=${k}: snapshot ${s.id} is not in the manifest`);

  const groups = await incidentGroups(ec2, incident);
  if (groups.length !== 2) problems.push(`k=${k}: ${groups.length} incident groups (${groups.map((g) => g.name)})`);
  const isolation = groups.find((g) => g.name.startsWith('holdfast-isolation-'))?.id;
  for (const [eni, now] of await groupsNow(ec2, fleet))
    if (now.join() !== isolation) problems.push(`k=${k}: ${eni} is on ${now.join()} after the re-run`);

  // verify and release in-process (the library the CLI wraps): two fewer process starts per boundary
  // keep the whole sweep within CI's budget; the baseline below runs both through the CLI.
  const report = await verifyEvidence(createFsStore(join(cwd, 'es')), incident);
  if (!report.ok)
    problems.push(
      `k=${k}: verify failed: ${report.items
        .filter((i) => i.status === 'failed')
        .map((i) => `${i.kind} ${i.id}: ${i.detail}`)
        .join('; ')}`,
    );

  const release = await releaseContainment({ incident, stateDir: join(cwd, 'state'), env });
  if (release.status !== 'complete')
    problems.push(`k=${k}: release ${release.status}: ${release.failed.map((f) => f.message).join('; ')}`);
  for (const [eni, now] of await groupsNow(ec2, fleet)) {
    const before = fleet.original.get(eni)!;
    if (now.join() !== before.join()) problems.push(`k=${k}: ${eni} released to ${now.join()}, was ${before.join()}`);
  }
  // Seen as the sweep goes, not only at its end.
  console.error(`crash at event ${k}: ${problems.length ? problems.join(' | ') : 'recovered'}`);
  return problems;
}

describe('a capture killed at every journal event boundary', () => {
  it(
    'recovers from each: no duplicates, all isolated, verify 0, release restores exactly',
    { timeout: 2_700_000 },
    async () => {
      // How many boundaries a whole capture of this shape has.
      const ec2 = motoEc2(inject('motoEndpoint'));
      const fleet = await seedFleet(ec2, `base-${Math.random().toString(16).slice(2, 6)}`);
      const incident = testIncident('BASE');
      const { cwd, env } = workspace();
      const whole = await runCli(captureArgs(incident, fleet), { cwd, env });
      expect(whole.code, whole.stderr).toBe(0);
      const total = lineCount(journalOf(cwd, incident));
      expect(total).toBeGreaterThan(20);

      // CRASH_SWEEP_FROM narrows the sweep when chasing one boundary; CI runs them all.
      const from = Number(process.env.CRASH_SWEEP_FROM ?? 1);
      const boundaries = Array.from({ length: total }, (_, i) => i + 1).filter((k) => k >= from);
      const problems: string[] = [];
      const worker = async () => {
        for (let k = boundaries.shift(); k !== undefined; k = boundaries.shift())
          problems.push(...(await crashAndRecover(k)));
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      expect(problems).toEqual([]);
    },
  );
});
