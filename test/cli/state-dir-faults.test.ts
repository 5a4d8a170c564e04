/**
 * The state directory on a tiny tmpfs that fills up mid-capture, and on a read-only one: no mutating
 * call reaches AWS without its durable journal record; the run stops with exit 6 naming the path;
 * moved to a disk with room, the re-run and release put everything back. Needs root (mount); CI runs
 * as root, so there a missing mount fails the test instead of skipping it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { checkJournalChain } from '../../src/evidence/journal.js';
import { startFaultProxy } from '../../src/emulators/fault-proxy.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';
import { groupsNow, motoEc2, seedFleet, type Fleet } from '../support/fleet.js';

const mounted: string[] = [];

function mountTmpfs(dir: string, sizeKiB: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    mounted.push(dir);
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    return false;
  }
}

afterAll(() => {
  for (const dir of mounted.reverse()) execFileSync('umount', ['-l', dir]);
});

const canMount = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'hf-mount-probe-'));
  try {
    return mountTmpfs(probe, 64);
  } catch {
    return false;
  }
})();

const MUTATING = /^(Create|Modify|Authorize|Revoke|Enter|Exit|Deregister|Register|Lock|Copy|AddTags)/;

const captureArgs = (incident: string, fleet: Fleet) => [
  'capture',
  '--incident',
  incident,
  ...fleet.instanceIds.flatMap((i) => ['--instance', i]),
  '--forensic-cidr',
  '10.99.0.0/24',
  '--store',
  'es',
];

describe.runIf(canMount || process.env.CI === 'true')('the state directory fails', () => {
  it('fills up mid-capture: nothing changed without its record; moved elsewhere, re-run and release restore all', async () => {
    const moto = inject('motoEndpoint');
    const ec2 = motoEc2(moto);
    const fleet = await seedFleet(ec2, Math.random().toString(16).slice(2, 8));
    const proxy = await startFaultProxy(moto);
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'hf-full-'));
      const small = join(cwd, 'small');
      mkdirSync(small);
      expect(mountTmpfs(small, 64)).toBe(true);
      // Room for the up-front probe and the first part of the journal, not for all of it.
      writeFileSync(join(small, 'filler'), Buffer.alloc(36 * 1024));
      const incident = testIncident('FULL');
      const env = motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint, HOLDFAST_STATE_DIR: small });
      const full = await runCli(captureArgs(incident, fleet), { cwd, env });
      const journalPath = join(small, incident, 'journal.ndjson');
      expect(full.code, full.stderr).toBe(6);
      expect(full.stderr).toContain(journalPath);
      expect(full.stderr).toMatch(/disk full/);

      // The durable journal is whole, and holds the record of every change that was sent.
      const check = checkJournalChain(readFileSync(journalPath, 'utf8'));
      expect(check.problems).toEqual([]);
      const mutations = proxy.calls.filter((c) => c.forwarded && MUTATING.test(c.action));
      expect(mutations.length).toBeGreaterThan(0);
      const changes = check.events.flatMap((e) => (e.type === 'change.recorded' ? [e.change] : []));
      const intents = check.events.flatMap((e) => (e.type === 'step.intent' ? [e.what] : []));
      for (const call of mutations) {
        if (call.action === 'ModifyNetworkInterfaceAttribute') {
          const eni = call.params.NetworkInterfaceId!;
          const record = changes.find((c) => c.resource === eni && c.attribute === 'groups');
          expect(record?.before, `before-groups of ${eni}`).toEqual(fleet.original.get(eni));
        } else if (call.action === 'CreateSnapshots') {
          const instance = call.params['InstanceSpecification.InstanceId'];
          expect(intents.some((i) => i.create === 'ebs-snapshot-set' && i.instanceId === instance)).toBe(true);
        } else if (call.action === 'CreateSecurityGroup') {
          expect(intents.some((i) => i.create === 'security-group' && i.name === call.params.GroupName)).toBe(true);
        } else if (call.action === 'ModifyInstanceAttribute') {
          expect(changes.some((c) => c.resource.startsWith(call.params.InstanceId!))).toBe(true);
        }
      }
      // Not one interface left swapped without its original groups on disk.
      for (const [eni, now] of await groupsNow(ec2, fleet)) {
        if (now.join() === fleet.original.get(eni)!.join()) continue;
        expect(changes.some((c) => c.resource === eni)).toBe(true);
      }

      // The responder moves the state to a disk with room and runs the same command.
      const roomy = join(cwd, 'roomy');
      cpSync(small, roomy, { recursive: true });
      const moved = { ...env, HOLDFAST_STATE_DIR: roomy };
      const again = await runCli(captureArgs(incident, fleet), { cwd, env: moved });
      expect(again.code, again.stderr).toBe(0);
      for (const now of (await groupsNow(ec2, fleet)).values()) expect(now).toHaveLength(1);
      const release = await runCli(['release', '--incident', incident, '--approve'], { cwd, env: moved });
      expect(release.code, release.stderr).toBe(0);
      for (const [eni, now] of await groupsNow(ec2, fleet)) expect(now).toEqual(fleet.original.get(eni));
    } finally {
      await proxy.close();
    }
  });

  it('read-only: refused before any remote change, naming the path', async () => {
    const moto = inject('motoEndpoint');
    const fleet = await seedFleet(motoEc2(moto), Math.random().toString(16).slice(2, 8), 1, 2);
    const proxy = await startFaultProxy(moto);
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'hf-ro-'));
      const ro = join(cwd, 'ro');
      mkdirSync(ro);
      expect(mountTmpfs(ro, 256)).toBe(true);
      execFileSync('mount', ['-o', 'remount,ro', ro]);
      const incident = testIncident('RO');
      const res = await runCli(captureArgs(incident, fleet), {
        cwd,
        env: motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint, HOLDFAST_STATE_DIR: ro }),
      });
      expect(res.code, res.stderr).toBe(6);
      expect(res.stderr).toContain(join(ro, incident));
      expect(res.stderr).toMatch(/read-only/);
      expect(proxy.calls.filter((c) => MUTATING.test(c.action))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
