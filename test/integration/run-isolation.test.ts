/**
 * Two EC2 captures at once in one process (as a daemon runs them), against moto: two instances, two
 * incident ids, one clients object handed to both. Each manifest and journal holds only its own
 * instance's artifacts and changes, and each instance gets exactly one snapshot set.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, inject, it } from 'vitest';
import { checkJournalChain, executePlan, planCapture, type Clients, type Provider } from '../../src/index.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { groupsNow, incidentGroups, incidentSnapshots, motoEc2, seedFleet } from '../support/fleet.js';

const providers = [ec2Provider as unknown as Provider];

describe('two EC2 captures in one process', () => {
  it('keep their instances, evidence and changes apart', async () => {
    const ec2 = motoEc2(inject('motoEndpoint'));
    const fleet = await seedFleet(ec2, Math.random().toString(16).slice(2, 8), 2, 2);
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-two-runs-'));
    const volumesOf = async (instanceId: string) =>
      (
        await ec2.send(
          new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }),
        )
      ).Volumes!.map((v) => v.VolumeId!);
    const runs = await Promise.all(
      fleet.instanceIds.map(async (instanceId, i) => ({
        instanceId,
        incident: testIncident(`TWO${i}`),
        volumes: await volumesOf(instanceId),
      })),
    );
    // One record handed to both runs: what either builds from it (clients, batched reads) must stay its own.
    const clients: Clients = {};
    const outcomes = await Promise.all(
      runs.map(async (r) => {
        const input = {
          incident: r.incident,
          forensicCidrs: ['198.51.100.20/32'],
          store: join(dir, 'es'),
          targets: { ec2: { instances: [r.instanceId] } },
        };
        const plan = await planCapture(input, { providers, env, clients });
        return executePlan(plan, { providers, env, clients, stateDir: dir });
      }),
    );

    const enisOf = (instanceId: string) =>
      [...fleet.original.keys()].filter((_, k) => Math.floor(k / 2) === fleet.instanceIds.indexOf(instanceId));
    const now = await groupsNow(ec2, fleet);
    for (const [i, r] of runs.entries()) {
      const outcome = outcomes[i]!;
      const other = runs[1 - i]!;
      expect(outcome.status).toBe('complete');
      // Manifest: its own instance, volumes and interfaces; none of the other run's.
      const manifest = JSON.stringify(outcome.manifest);
      expect(manifest).toContain(r.instanceId);
      for (const id of [other.instanceId, ...other.volumes, ...enisOf(other.instanceId)])
        expect(manifest).not.toContain(id);
      expect(outcome.changes.length).toBeGreaterThan(0);
      for (const c of outcome.changes)
        expect(`${c.resource}`).not.toMatch(new RegExp([other.instanceId, ...enisOf(other.instanceId)].join('|')));
      // Journal: an intact chain of its own incident's events only.
      const chain = checkJournalChain(readFileSync(outcome.journalPath!, 'utf8'));
      expect(chain.ok).toBe(true);
      expect(chain.events.every((e) => e.incident === r.incident)).toBe(true);
      expect(JSON.stringify(chain.events)).not.toContain(other.instanceId);
      // Exactly one snapshot set: one snapshot per volume of its instance, tagged with its incident.
      const snapshots = await incidentSnapshots(ec2, r.incident);
      expect(snapshots.map((s) => s.volumeId).sort()).toEqual([...r.volumes].sort());
      // Each interface ends on its own incident's isolation group.
      const isolation = (await incidentGroups(ec2, r.incident)).filter((g) => !g.name.includes('convert'));
      expect(isolation).toHaveLength(1);
      for (const eni of enisOf(r.instanceId)) expect(now.get(eni)).toEqual([isolation[0]!.id]);
    }
  });
});
