/**
 * The engine end to end through the real `evidence` binary: a test-only provider streams bytes,
 * the store is moto's S3 (or a directory), and verify re-checks everything.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createTestBucket, motoEnv, testIncident, testS3 } from '../support/aws.js';
import { runCli, startCli, STREAM_PLUGIN } from '../support/cli.js';

function workspace() {
  const cwd = mkdtempSync(join(tmpdir(), 'hf-cli-'));
  const env = motoEnv({ HOLDFAST_PLUGIN: STREAM_PLUGIN, HOLDFAST_TEST_RUNLOG: join(cwd, 'runs.log') });
  return { cwd, env };
}

function runLog(cwd: string): string[] {
  const path = join(cwd, 'runs.log');
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : [];
}

describe('capture → seal → verify through the CLI', () => {
  it('stores artifacts and the manifest in moto S3 under Object Lock, and verify passes', async () => {
    const { cwd, env } = workspace();
    const bucket = await createTestBucket();
    const incident = testIncident('S3');
    const store = `s3://${bucket}/evidence`;
    const res = await runCli(
      [
        'capture',
        '--incident',
        incident,
        '--test-stream',
        'disk',
        '--test-stream',
        'mem',
        '--test-size',
        '300000',
        '--store',
        store,
        '--retain-days',
        '1',
        '--retention-mode',
        'GOVERNANCE',
        '--json',
      ],
      { cwd, env },
    );
    expect(res.stderr).toContain('capture complete');
    expect(res.code).toBe(0);
    const outcome = res.lines.at(-1)!;
    expect(outcome).toMatchObject({ type: 'outcome', status: 'complete' });
    const manifest = outcome.manifest as {
      artifacts: {
        sha256: string;
        size: number;
        location: { versionId?: string };
        preservation: { lockMode: string };
        acquiredBy: { osUser: string; host: string; callerArn: string };
      }[];
      schema: string;
    };
    expect(manifest.schema).toBe('holdfast/manifest@1');
    expect(manifest.artifacts).toHaveLength(2);
    for (const a of manifest.artifacts) {
      expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(a.size).toBe(300000);
      expect(a.location.versionId).toBeTruthy();
      expect(a.preservation.lockMode).toBe('GOVERNANCE');
      // Chain of custody on every artifact: who (OS user, host, cloud identity).
      expect(a.acquiredBy.osUser).toBeTruthy();
      expect(a.acquiredBy.host).toBeTruthy();
      expect(a.acquiredBy.callerArn).toMatch(/^arn:aws:/);
    }
    const s3 = await testS3();
    const stored = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `evidence/${outcome.manifestKey as string}` }),
    );
    expect(stored.ObjectLockMode).toBe('GOVERNANCE');

    const verify = await runCli(['verify', '--incident', incident, '--store', store], { cwd, env });
    expect(verify.stderr).toContain('checks passed');
    expect(verify.stderr).toMatch(/locked GOVERNANCE until \d{4}-/);
    expect(verify.code).toBe(0);

    // GOVERNANCE retention can be shortened by whoever may bypass it: the bytes still match, but the
    // evidence is no longer protected as recorded, and verify must say so.
    const first = manifest.artifacts[0] as unknown as { location: { key: string; versionId: string } };
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket: bucket,
        Key: `evidence/${first.location.key}`,
        VersionId: first.location.versionId,
        BypassGovernanceRetention: true,
        Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 60_000) },
      }),
    );
    const loosened = await runCli(['verify', '--incident', incident, '--store', store], { cwd, env });
    expect(loosened.code).toBe(5);
    expect(loosened.stderr).toMatch(/FAIL artifact .*its lock was weakened since capture: retention shortened/);
  });

  it('verify exits 5 when one byte of a stored artifact is flipped (as a new version in an unlocked bucket)', async () => {
    const { cwd, env } = workspace();
    const bucket = await createTestBucket({ locked: false, versioned: true });
    const incident = testIncident('FLIP');
    const store = `s3://${bucket}`;
    const res = await runCli(
      [
        'capture',
        '--incident',
        incident,
        '--test-stream',
        'disk',
        '--store',
        store,
        '--allow-unlocked-store',
        '--json',
      ],
      { cwd, env },
    );
    expect(res.code).toBe(0);
    const manifest = res.lines.at(-1)!.manifest as {
      artifacts: { location: { key: string } }[];
      limitations: string[];
    };
    expect(manifest.limitations.join()).toMatch(/no Object Lock/);
    const key = manifest.artifacts[0]!.location.key;
    const s3 = await testS3();
    const original = Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray(),
    );
    original[10] = original.readUInt8(10) ^ 0x01;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: original }));

    const verify = await runCli(['verify', '--incident', incident, '--store', store], { cwd, env });
    expect(verify.code).toBe(5);
    expect(verify.stderr).toMatch(/FAIL artifact\s+teststream:collect\/disk\/disk\.bin/);
  });

  it('verify exits 5 for a flipped byte in a local store and passes offline on an untouched folder', async () => {
    const { cwd, env } = workspace();
    const incident = testIncident('FS');
    const res = await runCli(
      ['capture', '--incident', incident, '--test-stream', 'a', '--test-stream', 'b', '--store', 'es'],
      { cwd, env },
    );
    expect(res.code).toBe(0);
    expect((await runCli(['verify', '--incident', incident, join(cwd, 'es')], { cwd, env })).code).toBe(0);
    const dir = join(cwd, 'es', incident, 'artifacts', 'teststream_collect_b');
    const file = join(dir, readdirSync(dir)[0]!);
    const { chmodSync, writeFileSync } = await import('node:fs');
    chmodSync(file, 0o644);
    const bytes = readFileSync(file);
    bytes[0] = bytes.readUInt8(0) ^ 0xff;
    writeFileSync(file, bytes);
    const verify = await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env });
    expect(verify.code).toBe(5);
    expect(verify.stderr).toContain('FAIL artifact  teststream:collect/b/b.bin');
    expect(verify.stderr).not.toContain('FAIL artifact  teststream:collect/a/a.bin');
  });

  it('a failing stream fails only its own target: exit 4, manifest lists the failure, never a complete artifact', async () => {
    const { cwd, env } = workspace();
    const incident = testIncident('PART');
    const res = await runCli(
      [
        'capture',
        '--incident',
        incident,
        '--test-stream',
        'good',
        '--test-stream',
        'bad',
        '--test-fail',
        'bad',
        '--test-size',
        '500000',
        '--store',
        'es',
        '--json',
      ],
      { cwd, env },
    );
    expect(res.code).toBe(4);
    const outcome = res.lines.at(-1) as {
      status: string;
      failures: { stepId: string }[];
      manifest: { artifacts: { id: string }[]; failures: { stepId: string; message: string }[] };
    };
    expect(outcome.status).toBe('partial');
    expect(outcome.manifest.artifacts.map((a) => a.id)).toEqual(['teststream:collect/good/good.bin']);
    expect(outcome.manifest.failures.map((f) => f.stepId).sort()).toEqual([
      'teststream:collect/bad',
      'teststream:contain/bad',
    ]);
    expect(outcome.manifest.failures[0]!.message).toMatch(/mid-stream|did not finish/);
    // the good target was contained; the bad one was not (its evidence failed first)
    expect(res.stderr).toContain('✓ teststream:contain/good');
    expect(existsSync(join(cwd, 'es', incident, 'artifacts', 'teststream_collect_bad', 'bad.bin'))).toBe(false);
  });

  it('a capture killed mid-way resumes: finished steps do not run again and one manifest results', async () => {
    const { cwd, env } = workspace();
    const incident = testIncident('KILL');
    const args = [
      'capture',
      '--incident',
      incident,
      '--test-stream',
      'a',
      '--test-stream',
      'b',
      '--test-stream',
      'c',
      '--test-delay-ms',
      '400',
      '--concurrency',
      '1',
      '--store',
      'es',
      '--json',
    ];
    const first = startCli(args, { cwd, env });
    let doneBeforeKill: string[] = [];
    await new Promise<void>((resolve) => {
      let buffer = '';
      first.child.stdout!.on('data', (d) => {
        buffer += d;
        const done = buffer.split('\n').filter((l) => l.includes('"type":"step.done"'));
        if (done.length >= 3 && !first.child.killed) {
          doneBeforeKill = done.map((l) => (JSON.parse(l) as { stepId: string }).stepId);
          first.child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await first.done;
    expect(existsSync(join(cwd, 'es', incident, 'manifest'))).toBe(false);

    const second = await runCli(args, { cwd, env });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('resuming capture');
    const runs = runLog(cwd);
    for (const id of doneBeforeKill) expect(runs.filter((r) => r === id)).toHaveLength(1);
    expect(new Set(runs).size).toBe(9);
    expect(readdirSync(join(cwd, 'es', incident, 'manifest'))).toHaveLength(1);
    const journal = readFileSync(join(cwd, '.holdfast', incident, 'journal.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; stepId?: string });
    const doneIds = journal.filter((e) => e.type === 'step.done').map((e) => e.stepId);
    expect(doneIds).toHaveLength(9);
    expect(new Set(doneIds).size).toBe(9);

    // A third run finds everything sealed and does nothing.
    const third = await runCli(args, { cwd, env });
    expect(third.code).toBe(0);
    expect(third.stderr).toContain('already captured and sealed');
    expect(runLog(cwd)).toHaveLength(runs.length);
    expect(readdirSync(join(cwd, 'es', incident, 'manifest'))).toHaveLength(1);
  });

  it('SIGINT closes the journal, exits 130, and the next run finishes', async () => {
    const { cwd, env } = workspace();
    const incident = testIncident('INT');
    const args = [
      'capture',
      '--incident',
      incident,
      '--test-stream',
      'a',
      '--test-stream',
      'b',
      '--test-delay-ms',
      '300',
      '--concurrency',
      '1',
      '--store',
      'es',
      '--json',
    ];
    const first = startCli(args, { cwd, env });
    await new Promise<void>((resolve) => {
      first.child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('"type":"step.done"') && !first.child.killed) {
          first.child.kill('SIGINT');
          resolve();
        }
      });
    });
    const res = await first.done;
    expect(res.code).toBe(130);
    expect(res.stderr).toContain('run the same command again to resume');
    const last = readFileSync(join(cwd, '.holdfast', incident, 'journal.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .at(-1)!;
    expect(JSON.parse(last).type).toBe('capture.aborted');
    const again = await runCli(args, { cwd, env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('capture complete');
  });

  it('severity low holds containment back until approved, then a re-run contains', async () => {
    const { cwd, env } = workspace();
    const incident = testIncident('LOW');
    const base = [
      'capture',
      '--incident',
      incident,
      '--test-stream',
      'a',
      '--severity',
      'low',
      '--store',
      'es',
      '--json',
    ];
    const first = await runCli(base, { cwd, env });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('WAITING teststream:contain/a');
    expect((first.lines.at(-1) as { status: string }).status).toBe('awaiting-approval');
    expect(runLog(cwd)).not.toContain('teststream:contain/a');
    const second = await runCli([...base, '--approve-containment'], { cwd, env });
    expect(second.code).toBe(0);
    expect((second.lines.at(-1) as { status: string }).status).toBe('complete');
    expect(runLog(cwd).filter((r) => r === 'teststream:collect/a')).toHaveLength(1);
    expect(runLog(cwd)).toContain('teststream:contain/a');
  });

  it('plan --out then apply runs exactly that plan; an edited plan is refused', async () => {
    const { cwd, env } = workspace();
    const incident = testIncident('APPLY');
    const plan = await runCli(
      ['plan', '--incident', incident, '--test-stream', 'a', '--store', 'es', '--out', 'plan.json'],
      { cwd, env },
    );
    expect(plan.code).toBe(0);
    expect(existsSync(join(cwd, 'es'))).toBe(false);
    const applied = await runCli(['apply', 'plan.json', '--json'], { cwd, env });
    expect(applied.code).toBe(0);
    expect((applied.lines.at(-1) as { status: string }).status).toBe('complete');
    const { writeFileSync } = await import('node:fs');
    const saved = JSON.parse(readFileSync(join(cwd, 'plan.json'), 'utf8'));
    saved.steps.pop();
    writeFileSync(join(cwd, 'edited.json'), JSON.stringify(saved));
    const edited = await runCli(['apply', 'edited.json'], { cwd, env });
    expect(edited.code).toBe(2);
    expect(edited.stderr).toContain('digest does not match');
    saved.schema = 'holdfast/plan@9';
    writeFileSync(join(cwd, 'future.json'), JSON.stringify(saved));
    const future = await runCli(['apply', 'future.json'], { cwd, env });
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('holdfast/plan@9');
  });

  it('release undoes recorded containment and journals it', async () => {
    const { cwd, env } = workspace();
    const incident = testIncident('REL');
    expect(
      (await runCli(['capture', '--incident', incident, '--test-stream', 'a', '--store', 'es'], { cwd, env })).code,
    ).toBe(0);
    const refused = await runCli(['release', '--incident', incident], { cwd, env });
    expect(refused.code).toBe(2);
    // A dry run lists what would be undone and changes nothing: not even a journal line.
    const journal = () => readFileSync(join(cwd, '.holdfast', incident, 'journal.ndjson'), 'utf8');
    const before = journal();
    const preview = await runCli(['release', '--incident', incident, '--dry-run'], { cwd, env });
    expect(preview.code).toBe(0);
    expect(preview.stderr).toContain('would restore test:a isolated: true → false');
    expect(preview.stderr).toContain('nothing was changed');
    expect(journal()).toBe(before);
    const rel = await runCli(['release', '--incident', incident, '--approve', '--json'], { cwd, env });
    expect(rel.code).toBe(0);
    expect(rel.stderr).toContain('restored test:a isolated');
    const again = await runCli(['release', '--incident', incident, '--approve', '--json'], { cwd, env });
    expect((again.lines.at(-1) as { status: string }).status).toBe('nothing-to-release');
    expect((await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env })).code).toBe(0);
  });
});

describe('the journal in the store', () => {
  it('a second machine (no local journal) continues from the store: nothing re-runs, release works', async () => {
    const { cwd, env } = workspace();
    const bucket = await createTestBucket();
    const incident = testIncident('MOVE');
    const args = ['capture', '--incident', incident, '--test-stream', 'a', '--store', `s3://${bucket}`];
    expect((await runCli([...args, '--state-dir', 'laptop-1'], { cwd, env })).code).toBe(0);
    const again = await runCli([...args, '--state-dir', 'laptop-2'], { cwd, env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already captured and sealed');
    expect(runLog(cwd)).toHaveLength(3);
    const rel = await runCli(
      ['release', '--incident', incident, '--approve', '--store', `s3://${bucket}`, '--state-dir', 'laptop-3'],
      { cwd, env },
    );
    expect(rel.code).toBe(0);
    expect(rel.stderr).toContain('restored test:a isolated');
  });

  it('a machine lost after the collect phase: another continues from the copy the phase left in the store, collecting nothing twice', async () => {
    const { cwd, env } = workspace();
    const incident = testIncident('LOST');
    const args = (machine: string) => [
      'capture',
      '--incident',
      incident,
      '--test-stream',
      'a',
      '--test-stream',
      'b',
      '--test-delay-ms',
      '400',
      '--concurrency',
      '1',
      '--store',
      'es',
      '--state-dir',
      machine,
      '--json',
    ];
    const journals = join(cwd, 'es', incident, 'journal');
    const first = startCli(args('laptop-1'), { cwd, env });
    // The first laptop dies as soon as the collect phase's journal copy is in the store.
    // (A copy being written is a *.partial; only the placed key counts.)
    for (
      let waited = 0;
      !(existsSync(journals) && readdirSync(journals).some((f) => f.includes('-collect-') && f.endsWith('.ndjson')));
      waited += 25
    ) {
      if (waited > 30_000) throw new Error('no journal copy after the collect phase');
      await new Promise((r) => setTimeout(r, 25));
    }
    first.child.kill('SIGKILL');
    await first.done;
    expect(readdirSync(journals).some((f) => f.includes('-preserve-'))).toBe(true);
    expect(existsSync(join(cwd, 'es', incident, 'manifest'))).toBe(false);

    const second = await runCli(args('laptop-2'), { cwd, env });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('resuming capture');
    const collects = runLog(cwd).filter((r) => r.includes(':collect/'));
    expect(collects.sort()).toEqual(['teststream:collect/a', 'teststream:collect/b']);
    // Every copy, the dead laptop's included, is a beginning of the sealed journal.
    const verify = await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env });
    expect(verify.stderr).toMatch(/ok\s+journal .*3 stored copies consistent/);
    expect(verify.code).toBe(0);
  });
});

describe('one writer per incident', () => {
  it('a second capture of the same incident while one runs is refused, not interleaved', async () => {
    const { cwd, env } = workspace();
    const incident = testIncident('LOCK');
    const args = [
      'capture',
      '--incident',
      incident,
      '--test-stream',
      'a',
      '--test-delay-ms',
      // Long enough that the second CLI is up before the first ends, even on a loaded CI machine.
      '4000',
      '--store',
      'es',
      '--json',
    ];
    const first = startCli(args, { cwd, env });
    await new Promise<void>((resolve) =>
      first.child.stdout!.on('data', (d: Buffer) => d.toString().includes('step.started') && resolve()),
    );
    const second = await runCli(args, { cwd, env });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/being captured or released right now by process \d+/);
    expect((await first.done).code).toBe(0);
    expect((await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env })).code).toBe(0);
  });
});
