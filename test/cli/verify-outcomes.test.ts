/** What verify writes, and its three outcomes: ok, tampered (exit 5), could not check (exit 4, never 5). */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, inject, it } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli, STREAM_PLUGIN } from '../support/cli.js';

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .sort();

describe('verify', () => {
  it('--store DIR writes nothing into the folder unless --record-custody', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-ro-'));
    const incident = testIncident('RO');
    const env = motoEnv({ HOLDFAST_PLUGIN: STREAM_PLUGIN });
    const capture = await runCli(['capture', '--incident', incident, '--test-stream', 'a', '--store', 'es'], {
      cwd,
      env,
    });
    expect(capture.code, capture.stderr).toBe(0);
    const before = filesUnder(join(cwd, 'es'));
    const plain = await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(filesUnder(join(cwd, 'es'))).toEqual(before);
    const asked = await runCli(['verify', '--incident', incident, '--store', 'es', '--record-custody'], { cwd, env });
    expect(asked.code, asked.stderr).toBe(0);
    const added = filesUnder(join(cwd, 'es')).filter((f) => !before.includes(f));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/custody\/000001-verify-/);
  });

  it('a snapshot the EBS direct APIs cannot read (moto, CreateSnapshots) is "could not check": capture exit 4 once, verify exit 4 (never 5), dry run no tick', async () => {
    const ec2 = new EC2Client({
      endpoint: inject('motoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const image = (await ec2.send(new DescribeImagesCommand({ MaxResults: 5 }))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
    const instanceId = (
      await ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }))
    ).Instances![0]!.InstanceId!;
    const cwd = mkdtempSync(join(tmpdir(), 'hf-noimg-'));
    const env = motoEnv();
    const id = testIncident('NOIMG');
    const args = [
      'capture',
      '--incident',
      id,
      '--instance',
      instanceId,
      '--forensic-cidr',
      '198.51.100.7/32',
      '--hash-snapshots',
      '--store',
      'es',
    ];
    const hashStep = `ec2:hash-snapshots/${instanceId}`;
    // The dry run cannot prove the EBS read: no green tick on that step, and it says why in words.
    const dry = await runCli([...args, '--dry-run'], { cwd, env });
    expect(dry.code, dry.stderr).toBe(0);
    const dryLine = dry.stderr.split('\n').find((l) => l.includes(`${hashStep}: `))!;
    expect(dryLine).toMatch(/^\s+\? /);
    expect(dryLine).toContain(
      'could not check: the endpoint answered HTTP 500 with something that is not an AWS answer',
    );
    expect(dryLine).not.toContain('SyntaxError');
    expect(dry.stderr).toMatch(/permissions? could not be proved by a dry run \(\? above\)/);

    const res = await runCli([...args, '--json'], { cwd, env });
    expect(res.code, res.stderr).toBe(4);
    const translated = `the EBS direct APIs could not read snapshot snap-`;
    expect(res.stderr).toMatch(
      new RegExp(
        `${hashStep}[\\s\\S]*image hash of 1 of 1 snapshots of ${instanceId} could not be computed: ${translated}`,
      ),
    );
    expect(res.stderr).toContain(
      'in us-east-1: the endpoint answered HTTP 500 with something that is not an AWS answer',
    );
    // A parse error is never retried, and the raw SDK text is nowhere.
    expect(res.lines.filter((l) => l.type === 'step.retry' && l.stepId === hashStep)).toEqual([]);
    expect(res.lines.filter((l) => l.type === 'step.started' && l.stepId === hashStep)).toHaveLength(1);
    for (const raw of ['SyntaxError', 'Deserialization error', '<!doctype', 'not valid JSON'])
      expect(res.stderr + res.stdout).not.toContain(raw);
    const manifest = (
      res.lines.at(-1) as {
        manifest: {
          status: string;
          steps: { id: string; status: string }[];
          failures: { stepId: string }[];
          artifacts: { type: string; method: Record<string, unknown> }[];
        };
      }
    ).manifest;
    expect(manifest.status).toBe('partial');
    expect(manifest.failures.map((f) => f.stepId)).toEqual([hashStep]);
    expect(manifest.steps.filter((s) => s.status !== 'done').map((s) => s.id)).toEqual([hashStep]);
    expect(manifest.artifacts.find((a) => a.type === 'ebs-snapshot')!.method.imageSha256).toBeUndefined();
    // Containment finished before the hash step started.
    const at = (type: string, stepId: string) => res.lines.findIndex((l) => l.type === type && l.stepId === stepId);
    expect(at('step.done', `ec2:isolate/${instanceId}`)).toBeGreaterThan(-1);
    expect(at('step.done', `ec2:isolate/${instanceId}`)).toBeLessThan(at('step.started', hashStep));

    // status and the sitrep carry the translated line once, never the raw SDK error.
    const status = await runCli(['status', '--incident', id], { cwd, env });
    const sitrep = await runCli(['status', '--incident', id, '--sitrep'], { cwd, env });
    for (const out of [status.stderr, sitrep.stdout]) {
      expect(out.split(translated).length - 1).toBe(1);
      expect(out).not.toContain('SyntaxError');
    }

    // verify --hash-snapshots: the snapshot exists as recorded, its image could not be read — exit 4, not 5.
    const verify = await runCli(['verify', '--incident', id, '--hash-snapshots', '--json'], { cwd, env });
    expect(verify.code, verify.stderr).toBe(4);
    expect(verify.stderr).toMatch(
      /ERR {2}artifact\s+\S+\s+snapshot snap-\S+ exists, completed, as recorded; its image was not checked: the EBS direct APIs could not read snapshot snap-\S+ in us-east-1/,
    );
    expect(verify.stderr).not.toContain('FAIL');
    expect(verify.stderr).toContain('1 check could not be made (ERR above)');
    expect(verify.stderr).not.toContain('SyntaxError');
    const report = verify.lines.find((l) => l.type === 'verify') as {
      ok: boolean;
      couldNotCheck: number;
      items: { status: string }[];
    };
    expect(report).toMatchObject({ ok: true, couldNotCheck: 1 });
    expect(report.items.filter((i) => i.status === 'failed')).toEqual([]);
    // Without --hash-snapshots the same snapshot checks ok.
    const plain = await runCli(['verify', '--incident', id], { cwd, env });
    expect(plain.code, plain.stderr).toBe(0);
  });
});
