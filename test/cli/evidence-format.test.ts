/**
 * Evidence an outside examiner can verify (issue 11): every layer tampered with, one at a time, on a
 * copy of a real signed capture + release; `evidence verify` exits 5 naming the piece, and the
 * independent Python verifier (test/conformance, written from docs/evidence-format.md) fails too.
 * Real outputs are validated against the JSON Schemas under schemas/.
 */
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
} from '@aws-sdk/client-s3';
import { CreateTagsCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/evidence/canonical-json.js';
import { localSigner, signRecord } from '../../src/evidence/signing.js';
import { seedAws } from '../../src/drill/client.js';
import { motoPython } from '../../src/emulators/moto.js';
import { createTestBucket, motoEnv, testIncident, testS3 } from '../support/aws.js';
import { instanceWithKnownSnapshot, testBlock } from '../support/ebs.js';
import { runCli, STREAM_PLUGIN } from '../support/cli.js';

const execFileAsync = promisify(execFile);
const CONFORMANCE = fileURLToPath(new URL('../conformance/verify_evidence.py', import.meta.url));
const VALIDATE = fileURLToPath(new URL('../conformance/validate_schemas.py', import.meta.url));
const SCHEMAS = fileURLToPath(new URL('../../schemas', import.meta.url));

let cwd: string;
let incident: string;
const env = () => motoEnv({ HOLDFAST_PLUGIN: STREAM_PLUGIN, HOLDFAST_STATE_DIR: join(cwd, 'state') });

/**
 * The Python verifier (the moto venv has `cryptography`, `jsonschema` and `boto3`, installed by the
 * test setup); `s3://…` runs its S3 mode against moto with the test's credentials.
 */
async function conformance(folder: string, id: string, extra: string[] = []) {
  const s3 = folder.startsWith('s3://') ? ['--s3-endpoint', inject('motoEndpoint')] : [];
  try {
    const { stderr } = await execFileAsync(motoPython(), [CONFORMANCE, folder, id, ...s3, ...extra], { env: env() });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: e.code ?? 1, stderr: e.stderr ?? '' };
  }
}

const dirOf = (root: string, sub: string) => join(root, incident, sub);
const filesIn = (dir: string, suffix: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f));
const newestJournal = (root: string) =>
  filesIn(dirOf(root, 'journal'), '.ndjson').sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
const manifestFile = (root: string) => filesIn(dirOf(root, 'manifest'), '.json').find((f) => !f.endsWith('.sig.json'))!;

function rewrite(path: string, change: (text: string) => string) {
  chmodSync(path, 0o644);
  writeFileSync(path, change(readFileSync(path, 'utf8')));
}

/** A journal line chained onto `text` (what a forger with the format in hand would append). */
function chainedLine(text: string, body: Record<string, unknown>): string {
  const lines = text.trimEnd().split('\n');
  const last = JSON.parse(lines.at(-1)!) as { seq: number; incident: string };
  return `${canonicalJson({ ...body, seq: last.seq + 1, at: new Date().toISOString(), incident: last.incident, prev: sha256Hex(lines.at(-1)!) })}\n`;
}

/** Tamper with a copy of the store; both verifiers must exit 5, and holdfast must name the piece. */
async function expectCaught(change: (root: string) => void | Promise<void>, names: RegExp, extra: string[] = []) {
  const copy = mkdtempSync(join(tmpdir(), 'hf-tamper-'));
  cpSync(join(cwd, 'es'), copy, { recursive: true });
  await change(copy);
  const ours = await runCli(['verify', '--incident', incident, copy, ...extra], { cwd, env: env() });
  expect(ours.stderr).toMatch(names);
  expect(ours.code).toBe(5);
  const theirs = await conformance(copy, incident, extra);
  expect(theirs.stderr).toContain('FAIL');
  expect(theirs.code).toBe(5);
  return { ours, theirs, copy };
}

/** What an examiner downloads from a bucket: the current version of each of the incident's objects. */
async function download(bucket: string, id: string): Promise<string> {
  const s3 = await testS3();
  const folder = mkdtempSync(join(tmpdir(), 'hf-s3dl-'));
  for (const o of (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${id}/` }))).Contents ?? []) {
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))
    ).Body!.transformToByteArray();
    mkdirSync(dirname(join(folder, o.Key!)), { recursive: true });
    writeFileSync(join(folder, o.Key!), body);
  }
  return folder;
}

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'hf-format-'));
  incident = testIncident('FMT');
  expect((await runCli(['keygen', '--out', 'k'], { cwd, env: env() })).code).toBe(0);
  expect((await runCli(['keygen', '--out', 'other'], { cwd, env: env() })).code).toBe(0);
  const capture = await runCli(
    [
      'capture',
      '--incident',
      incident,
      '--test-stream',
      'a',
      '--test-stream',
      'bb',
      '--store',
      'es',
      '--sign-key',
      'k',
    ],
    { cwd, env: env() },
  );
  expect(capture.code).toBe(0);
  // A signed incident's release must be signed with the same key: refused (exit 2) before any change.
  const unsigned = await runCli(['release', '--incident', incident, '--approve'], { cwd, env: env() });
  expect(unsigned.code).toBe(2);
  expect(unsigned.stderr).toMatch(/was signed by local:.*pass the same key/);
  const release = await runCli(['release', '--incident', incident, '--approve', '--sign-key', 'k'], {
    cwd,
    env: env(),
  });
  expect(release.code).toBe(0);
  // Verifying the live store (found from the incident's record) appends a signed custody entry.
  const verify = await runCli(['verify', '--incident', incident, '--sign-key', 'k'], { cwd, env: env() });
  expect(verify.code).toBe(0);
});

describe('the evidence format, end to end', () => {
  it('a real capture + release verifies with holdfast and with the independent Python verifier; outputs match the schemas', async () => {
    const ours = await runCli(['verify', '--incident', incident, join(cwd, 'es'), '--public-key', 'k.pub', '--json'], {
      cwd,
      env: env(),
    });
    expect(ours.code).toBe(0);
    const kinds = (ours.lines.at(-1) as { items: { kind: string; ok: boolean }[] }).items.map((i) => i.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(['artifact', 'journal', 'manifest', 'release', 'seal', 'signature', 'custody']),
    );
    const theirs = await conformance(join(cwd, 'es'), incident, ['--public-key', join(cwd, 'k.pub')]);
    expect(theirs.stderr).not.toContain('FAIL');
    expect(theirs.code).toBe(0);
    const schemas = await execFileAsync(motoPython(), [VALIDATE, SCHEMAS, join(cwd, 'es'), incident]);
    // Every kind of output was checked, none skipped.
    expect(schemas.stdout).toMatch(
      /journal-event: \d+ valid; manifest: 1 valid; release-record: 1 valid; signature: [4-9] valid; custody-entry: 2 valid/,
    );
  });

  it('an artifact byte flipped, an artifact truncated, two artifacts swapped', async () => {
    const artifact = (root: string, name: string) =>
      filesIn(join(dirOf(root, 'artifacts'), `teststream_collect_${name}`), '.bin')[0]!;
    await expectCaught(
      (root) => rewrite(artifact(root, 'a'), (t) => `${t.slice(0, 5)}${t[5] === 'x' ? 'y' : 'x'}${t.slice(6)}`),
      /FAIL artifact\s+teststream:collect\/a\/a.bin/,
    );
    await expectCaught(
      (root) => rewrite(artifact(root, 'bb'), (t) => t.slice(0, 100)),
      /FAIL artifact\s+teststream:collect\/bb\/bb.bin/,
    );
    await expectCaught((root) => {
      const a = readFileSync(artifact(root, 'a'));
      const b = readFileSync(artifact(root, 'bb'));
      rewrite(artifact(root, 'a'), () => b.toString('latin1'));
      rewrite(artifact(root, 'bb'), () => a.toString('latin1'));
    }, /FAIL artifact\s+teststream:collect\/a\/a.bin[\s\S]*FAIL artifact\s+teststream:collect\/bb\/bb.bin/);
  });

  it('a journal line removed, a journal line edited, a pinned phase copy edited', async () => {
    await expectCaught(
      (root) =>
        rewrite(newestJournal(root), (t) =>
          t
            .split('\n')
            .filter((_, i) => i !== 4)
            .join('\n'),
        ),
      /FAIL journal .*line 5: prev hash does not match/,
    );
    await expectCaught(
      (root) => rewrite(newestJournal(root), (t) => t.replace('"attempt":1', '"attempt":2')),
      /FAIL journal .*prev hash does not match/,
    );
    await expectCaught(
      (root) =>
        rewrite(
          filesIn(dirOf(root, 'journal'), '.ndjson').find((f) => f.includes('-collect-'))!,
          (t) => t.replace('"attempt":1', '"attempt":3'),
        ),
      /FAIL journal\s+\S+-collect-\S+\.ndjson .*differs from the sealed/,
    );
  });

  it('a forged line after the seal (claiming a planted artifact) is an unsealed tail; status and the sitrep never call it collected', async () => {
    const { copy } = await expectCaught(
      (root) => {
        const path = newestJournal(root);
        mkdirSync(join(dirOf(root, 'artifacts'), 'planted'), { recursive: true });
        writeFileSync(join(dirOf(root, 'artifacts'), 'planted', 'x.bin'), 'planted');
        const forged = chainedLine(readFileSync(path, 'utf8'), {
          type: 'artifact.recorded',
          stepId: 'teststream:collect/a',
          artifact: {
            id: 'planted:x',
            type: 'file',
            stepId: 'teststream:collect/a',
            source: {},
            acquiredAt: new Date().toISOString(),
            location: { key: `${incident}/artifacts/planted/x.bin` },
            sha256: sha256Hex('planted'),
            size: 7,
            method: {},
          },
        });
        chmodSync(path, 0o644);
        appendFileSync(path, forged);
      },
      /FAIL journal .*unsealed tail: line \d+ \(artifact\.recorded\) follow/,
      ['--public-key', join(cwd, 'k.pub')],
    );
    // Read from that store (no local journal): the planted artifact is marked, never collected.
    const state = mkdtempSync(join(tmpdir(), 'hf-state-'));
    const status = await runCli(['status', '--incident', incident, '--store', copy, '--state-dir', state], {
      cwd,
      env: env(),
    });
    expect(status.stderr).toMatch(/UNSEALED: 1 events .*1 artifacts/);
    const sitrep = await runCli(['status', '--incident', incident, '--store', copy, '--state-dir', state, '--sitrep'], {
      cwd,
      env: env(),
    });
    const collected = sitrep.stdout.split('### Collected')[1]!.split('###')[0]!;
    expect(collected).not.toContain('planted:x');
    expect(sitrep.stdout).toMatch(/### Recorded, not sealed yet\n- file planted:x/);
  });

  it('a forged tail closed by a forged, unsigned seal fails: the journal records a signer', async () => {
    await expectCaught((root) => {
      const path = newestJournal(root);
      const text = readFileSync(path, 'utf8');
      const line1 = chainedLine(text, { type: 'capture.limitation', message: 'forged' });
      const line2 = chainedLine(text + line1, {
        type: 'release.sealed',
        recordKey: `${incident}/release/forged.json`,
        recordSha256: sha256Hex('{}'),
        journalKey: path.slice(root.length + 1),
      });
      writeFileSync(join(dirOf(root, 'release'), 'forged.json'), '{}');
      chmodSync(path, 0o644);
      appendFileSync(path, line1 + line2);
    }, /FAIL signature .*journal records signer local:\S+ before this seal, but it is not signed/);
  });

  it('a manifest edited, a release record edited', async () => {
    await expectCaught(
      (root) => rewrite(manifestFile(root), (t) => t.replace('"status":"complete"', '"status":"partial"')),
      /FAIL seal\s+\S+manifest\S+\s+manifest sha256 \w+ differs/,
    );
    await expectCaught(
      (root) =>
        rewrite(
          filesIn(dirOf(root, 'release'), '.json').find((f) => !f.endsWith('.sig.json'))!,
          (t) => t.replace('"restored":[', '"restored":["forged",'),
        ),
      /FAIL seal\s+\S+\/release\/\S+\s+release record sha256 \w+ differs/,
    );
  });

  it('a signature by another key (validly made, no --public-key given), and a signature removed', async () => {
    await expectCaught(async (root) => {
      const path = `${manifestFile(root)}.sig.json`;
      const manifestText = readFileSync(manifestFile(root), 'utf8');
      const record = await signRecord(localSigner(join(cwd, 'other')), {
        kind: 'manifest',
        incident,
        recordKey: manifestFile(root).slice(root.length + 1),
        recordSha256: sha256Hex(manifestText),
      });
      rewrite(path, () => JSON.stringify(record));
    }, /FAIL signature .*signed by local:\S+ .*but the journal records signer local:/);
    await expectCaught(
      (root) => rmSync(`${manifestFile(root)}.sig.json`, { force: true }),
      /FAIL signature .*cannot read the signature/,
    );
  });

  it('a custody entry edited', async () => {
    await expectCaught(
      (root) =>
        rewrite(
          filesIn(dirOf(root, 'custody'), '.json').find((f) => f.includes('000001-release'))!,
          (t) => t.replace('"release"', '"verify"'),
        ),
      /FAIL custody\s+\S+000001-release\S+/,
    );
  });

  it('verify of a folder writes nothing into it unless asked; an unknown incident or a store without its journal is bad input (exit 2) naming where it looked', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'hf-ro-'));
    cpSync(join(cwd, 'es'), copy, { recursive: true });
    const list = () => readdirSync(join(copy, incident), { recursive: true }).sort().join('\n');
    const before = list();
    expect((await runCli(['verify', '--incident', incident, copy], { cwd, env: env() })).code).toBe(0);
    expect(list()).toBe(before);
    expect((await runCli(['verify', '--incident', incident, copy, '--record-custody'], { cwd, env: env() })).code).toBe(
      0,
    );
    expect(
      readdirSync(join(copy, incident, 'custody')).filter((f) => f.includes('-verify-') && !f.endsWith('.sig.json')),
    ).toHaveLength(2);

    const elsewhere = mkdtempSync(join(tmpdir(), 'hf-none-'));
    const unknown = await runCli(['verify', '--incident', 'IR-NOPE-1'], { cwd: elsewhere, env: env() });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /no journal for this incident; looked in:[\s\S]*no store recorded for IR-NOPE-1[\s\S]*evidence-store/,
    );
    const empty = await runCli(['verify', '--incident', 'IR-NOPE-1', '--store', join(cwd, 'es')], { cwd, env: env() });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain(join(cwd, 'es'));
  });
});

describe('the evidence format on S3 (moto)', () => {
  it('a new S3 version of a sealed journal copy is tampering, even with the right content after it', async () => {
    const bucket = await createTestBucket({ locked: false, versioned: true });
    const id = testIncident('S3V');
    const store = `s3://${bucket}`;
    const res = await runCli(
      ['capture', '--incident', id, '--test-stream', 'a', '--store', store, '--allow-unlocked-store'],
      {
        cwd,
        env: env(),
      },
    );
    expect(res.code).toBe(0);
    // Untouched, the Python verifier's S3 mode (every record and pin read at its recorded version) passes.
    const clean = await conformance(`s3://${bucket}`, id);
    expect(clean.stderr).not.toContain('FAIL');
    expect(clean.code).toBe(0);
    // A download has one version per key: the recorded versions are "not checked" there, never tampering.
    const cleanFolder = await download(bucket, id);
    const ofFolder = await runCli(['verify', '--incident', id, cleanFolder], { cwd, env: env() });
    expect(ofFolder.stderr).toMatch(/n\/c\s+journal\s+\S+\s+\d+ recorded S3 versions \(and their locks\): not checked/);
    expect(ofFolder.code).toBe(0);
    const theirsOfFolder = await conformance(cleanFolder, id);
    expect(theirsOfFolder.stderr).toMatch(
      /n\/c\s+journal\s+\S+\s+\d+ recorded S3 versions \(and their locks\): not checked/,
    );
    expect(theirsOfFolder.code).toBe(0);
    const s3 = await testS3();
    const keys = (
      (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${id}/journal/` }))).Contents ?? []
    ).map((o) => o.Key!);
    const pinned = keys.find((k) => k.includes('-collect-'))!;
    const original = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: pinned }))
    ).Body!.transformToString();
    // The same bytes plus one forged line, as a new version (a versioned bucket without Object Lock allows it).
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: pinned,
        Body: original + chainedLine(original, { type: 'capture.limitation', message: 'x' }),
      }),
    );
    const verify = await runCli(['verify', '--incident', id, '--store', store], { cwd, env: env() });
    expect(verify.stderr).toMatch(/FAIL journal\s+\S+-collect-\S+ .*(a newer version of|does not extend)/);
    expect(verify.code).toBe(5);
    // The Python verifier in S3 mode reads the pinned version and sees the newer one.
    const theirsS3 = await conformance(`s3://${bucket}`, id);
    expect(theirsS3.stderr).toMatch(
      /FAIL journal\s+\S+-collect-\S+\s+a newer version \(\S+\) of \S+ replaced the recorded \S+ \(pinned by a seal\)/,
    );
    expect(theirsS3.code).toBe(5);
    // The examiner's download (current versions) fails the Python verifier too.
    const folder = await download(bucket, id);
    const theirs = await conformance(folder, id);
    expect(theirs.stderr).toMatch(/FAIL journal\s+\S+-collect-/);
    expect(theirs.code).toBe(5);
  });

  it('Object Lock weakened on a stored artifact (legal hold removed) fails both verifiers; S3 mode checks the lock', async () => {
    const bucket = await createTestBucket();
    const id = testIncident('LOCK');
    const res = await runCli(
      [
        'capture',
        '--incident',
        id,
        '--test-stream',
        'a',
        '--store',
        `s3://${bucket}`,
        '--retention-mode',
        'GOVERNANCE',
        '--retain-days',
        '1',
        '--legal-hold',
        '--json',
      ],
      { cwd, env: env() },
    );
    expect(res.code).toBe(0);
    const clean = await conformance(`s3://${bucket}`, id);
    expect(clean.stderr).not.toContain('FAIL');
    expect(clean.code).toBe(0);
    const artifact = (
      res.lines.at(-1) as { manifest: { artifacts: { id: string; location: { key: string; versionId: string } }[] } }
    ).manifest.artifacts[0]!;
    // What someone allowed to change legal holds (not holdfast: verify.json and s3-store.json grant no removal) could do.
    await (
      await testS3()
    ).send(
      new PutObjectLegalHoldCommand({
        Bucket: bucket,
        Key: artifact.location.key,
        VersionId: artifact.location.versionId,
        LegalHold: { Status: 'OFF' },
      }),
    );
    const ours = await runCli(['verify', '--incident', id, '--store', `s3://${bucket}`], { cwd, env: env() });
    expect(ours.stderr).toMatch(
      new RegExp(`FAIL artifact\\s+${artifact.id.replace(/[/.]/g, '\\$&')}\\s+.*legal hold removed`),
    );
    expect(ours.code).toBe(5);
    const theirs = await conformance(`s3://${bucket}`, id);
    expect(theirs.stderr).toMatch(/FAIL artifact\s+\S+\s+legal hold removed/);
    expect(theirs.code).toBe(5);
  });

  it('platform-held snapshots are checked online (a deleted and a re-tagged one fail) and "not checked (offline)" from a folder', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const id = testIncident('SNAP');
    const res = await runCli(
      [
        'capture',
        '--incident',
        id,
        '--instance',
        seeded.instanceId,
        '--db-instance',
        seeded.dbInstance,
        '--no-contain',
        '--store',
        'es',
      ],
      { cwd, env: env() },
    );
    expect(res.code).toBe(0);
    const online = await runCli(['verify', '--incident', id], { cwd, env: env() });
    expect(online.stderr).toMatch(/ok\s+artifact\s+\S+\s+snapshot snap-\S+ exists, completed/);
    expect(online.stderr).toMatch(/ok\s+artifact\s+\S+\s+rds-snapshot \S+ exists, available/);
    expect(online.code).toBe(0);
    const offline = await runCli(['verify', '--incident', id, join(cwd, 'es')], { cwd, env: env() });
    expect(offline.stderr).toMatch(/n\/c\s+artifact .*not checked \(offline\)/);
    expect(offline.stderr).not.toMatch(/ok\s+artifact .*snap-/);
    expect(offline.code).toBe(0);
    const theirs = await conformance(join(cwd, 'es'), id);
    expect(theirs.stderr).toMatch(/n\/c\s+artifact .*not checked \(offline\)/);
    const theirsOnline = await conformance(join(cwd, 'es'), id, ['--aws-endpoint', inject('motoEndpoint')]);
    expect(theirsOnline.stderr).not.toContain('FAIL');
    expect(theirsOnline.code).toBe(0);

    const ec2 = new EC2Client({
      endpoint: inject('motoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const snaps =
      (await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [id] }] })))
        .Snapshots ?? [];
    expect(snaps.length).toBeGreaterThanOrEqual(2);
    // What an attacker (not holdfast: its guard refuses deletes) would do to platform-held evidence.
    await ec2.send(
      new CreateTagsCommand({
        Resources: [snaps[0]!.SnapshotId!],
        Tags: [{ Key: 'holdfast:do-not-delete', Value: 'false' }],
      }),
    );
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snaps[1]!.SnapshotId! }));
    const tampered = await runCli(['verify', '--incident', id], { cwd, env: env() });
    expect(tampered.stderr).toContain(`FAIL artifact`);
    expect(tampered.stderr).toMatch(
      new RegExp(`snapshot ${snaps[0]!.SnapshotId}: tags changed or removed: holdfast:do-not-delete=true`),
    );
    expect(tampered.stderr).toMatch(new RegExp(`snapshot ${snaps[1]!.SnapshotId} no longer exists`));
    expect(tampered.code).toBe(5);
    const theirsTampered = await conformance(join(cwd, 'es'), id, ['--aws-endpoint', inject('motoEndpoint')]);
    expect(theirsTampered.stderr).toMatch(
      new RegExp(`FAIL artifact .*${snaps[0]!.SnapshotId}: tags changed or removed`),
    );
    expect(theirsTampered.stderr).toMatch(
      new RegExp(`FAIL artifact .*snapshot ${snaps[1]!.SnapshotId} no longer exists`),
    );
    expect(theirsTampered.code).toBe(5);
  });

  it('capture --hash-snapshots records each snapshot image hash; verify --hash-snapshots recomputes it, and a changed block fails naming the snapshot', async () => {
    const id = testIncident('IMG');
    // A set this incident "took" earlier (tagged as capture tags it), with known blocks: capture adopts it.
    const known = await instanceWithKnownSnapshot(inject('motoEndpoint'), id);
    const res = await runCli(
      [
        'capture',
        '--incident',
        id,
        '--instance',
        known.instanceId,
        '--no-contain',
        '--hash-snapshots',
        '--store',
        'es',
        '--json',
      ],
      { cwd, env: env() },
    );
    expect(res.stderr).toContain('capture complete');
    expect(res.code).toBe(0);
    const manifest = (res.lines.at(-1) as { manifest: { artifacts: ArtifactLike[] } }).manifest;
    const snapshots = manifest.artifacts.filter((a) => a.type === 'ebs-snapshot');
    expect(snapshots.map((a) => a.location.snapshotId)).toEqual([known.snapshotId]);
    expect(snapshots[0]!.stepId).toBe(`ec2:snapshot/${known.instanceId}`);
    expect(snapshots[0]!.method).toMatchObject({
      api: 'CreateSnapshots',
      imageSha256: known.expected,
      imageSize: 1024 ** 3,
      imageBlockSize: known.blockSize,
      imageWrittenBlocks: 3,
    });
    // Journaled as its own step, with live progress in bytes.
    expect(res.lines).toContainEqual(
      expect.objectContaining({ type: 'step.done', stepId: `ec2:hash-snapshots/${known.instanceId}` }),
    );
    expect(res.lines).toContainEqual(
      expect.objectContaining({
        type: 'progress',
        stepId: `ec2:hash-snapshots/${known.instanceId}`,
        bytes: 1024 ** 3,
        done: true,
      }),
    );
    const verify = await runCli(['verify', '--incident', id, '--hash-snapshots'], { cwd, env: env() });
    expect(verify.stderr).toContain(
      `image sha256 ${known.expected} (${1024 ** 3} bytes, 3 written blocks, as recorded)`,
    );
    expect(verify.code).toBe(0);
    // The record is the format's: the Python verifier and the schemas accept it.
    const theirs = await conformance(join(cwd, 'es'), id);
    expect(theirs.stderr).not.toContain('FAIL');
    expect(theirs.code).toBe(0);
    const schemas = await execFileAsync(motoPython(), [VALIDATE, SCHEMAS, join(cwd, 'es'), id]);
    expect(schemas.stdout).toMatch(/manifest: 1 valid/);

    // One block of the snapshot changed afterwards (a new PutSnapshotBlock): verify fails naming it.
    const changed = await known.putBlock(7, testBlock(known.blockSize, 7, ' changed'));
    const tampered = await runCli(['verify', '--incident', id, '--hash-snapshots'], { cwd, env: env() });
    expect(tampered.stderr).toMatch(
      new RegExp(
        `FAIL artifact\\s+\\S+\\s+snapshot ${known.snapshotId}: image sha256 ${changed}, recorded ${known.expected}`,
      ),
    );
    expect(tampered.code).toBe(5);
  });
});

type ArtifactLike = {
  type: string;
  stepId: string;
  location: { snapshotId?: string };
  method: Record<string, unknown>;
};
