/** Signed, offline-verifiable manifests: every kind of tampering is caught by `evidence verify`. */
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { inject, describe, expect, it, beforeAll } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli, STREAM_PLUGIN } from '../support/cli.js';

const env = () => motoEnv({ HOLDFAST_PLUGIN: STREAM_PLUGIN });
let cwd: string;
let incident: string;

function firstFile(dir: string, suffix: string): string {
  return join(
    dir,
    readdirSync(dir).find((f) => f.endsWith(suffix))!,
  );
}

function largestFile(dir: string, suffix: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

function rewrite(path: string, change: (text: Buffer) => Buffer) {
  chmodSync(path, 0o644);
  writeFileSync(path, change(readFileSync(path)));
}

/** A copy of the store folder with one thing changed, verified offline. */
async function verifyTampered(change: (root: string) => void) {
  const copy = mkdtempSync(join(tmpdir(), 'hf-tamper-'));
  cpSync(join(cwd, 'es'), copy, { recursive: true });
  change(join(copy, incident));
  return runCli(['verify', '--incident', incident, copy, '--public-key', join(cwd, 'k.pub')], { cwd, env: env() });
}

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'hf-sign-'));
  incident = testIncident('SIGN');
  const keygen = await runCli(['keygen', '--out', 'k'], { cwd, env: env() });
  expect(keygen.code).toBe(0);
  expect(statSync(join(cwd, 'k')).mode & 0o777).toBe(0o600);
  const res = await runCli(
    ['capture', '--incident', incident, '--test-stream', 'a', '--test-stream', 'b', '--store', 'es', '--sign-key', 'k'],
    { cwd, env: env() },
  );
  expect(res.code).toBe(0);
});

describe('signed manifest', () => {
  it('verifies offline from the folder alone, with the pinned key', async () => {
    const res = await runCli(
      ['verify', '--incident', incident, join(cwd, 'es'), '--public-key', join(cwd, 'k.pub'), '--json'],
      { cwd, env: env() },
    );
    expect(res.code).toBe(0);
    const report = res.lines.at(-1) as { items: { kind: string; ok: boolean }[] };
    expect(report.items.map((i) => i.kind)).toEqual([
      'artifact',
      'artifact',
      'journal',
      'manifest',
      'seal',
      'signature',
    ]);
  });

  it('catches one flipped byte in an artifact', async () => {
    const res = await verifyTampered((root) =>
      rewrite(
        firstFile(join(root, 'artifacts', 'teststream_collect_a'), '.bin'),
        (b) => ((b[5] = b.readUInt8(5) ^ 1), b),
      ),
    );
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/FAIL artifact\s+teststream:collect\/a\/a.bin/);
  });

  it('catches one edited journal line', async () => {
    // The newest (longest) copy: the phases' earlier copies are checked only as its beginnings.
    const res = await verifyTampered((root) =>
      rewrite(largestFile(join(root, 'journal'), '.ndjson'), (b) =>
        Buffer.from(b.toString().replace('"attempt":1', '"attempt":2')),
      ),
    );
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/FAIL journal .*prev hash does not match/);
  });

  it('catches an edited manifest', async () => {
    const res = await verifyTampered((root) =>
      rewrite(firstFile(join(root, 'manifest'), '.json'), (b) =>
        Buffer.from(b.toString().replace('"status":"complete"', '"status":"partial"')),
      ),
    );
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/FAIL seal/);
  });

  it('catches a forged signature and a signature by another key', async () => {
    const forged = await verifyTampered((root) =>
      rewrite(firstFile(join(root, 'manifest'), '.sig.json'), (b) => {
        const rec = JSON.parse(b.toString());
        const sig = Buffer.from(rec.signature, 'base64');
        sig[3] = sig.readUInt8(3) ^ 1;
        rec.signature = sig.toString('base64');
        return Buffer.from(JSON.stringify(rec));
      }),
    );
    expect(forged.code).toBe(5);
    expect(forged.stderr).toMatch(/FAIL signature .*does not verify/);

    const other = await runCli(['keygen', '--out', 'other'], { cwd, env: env() });
    expect(other.code).toBe(0);
    const res = await runCli(
      ['verify', '--incident', incident, join(cwd, 'es'), '--public-key', join(cwd, 'other.pub')],
      { cwd, env: env() },
    );
    expect(res.code).toBe(5);
    expect(res.stderr).toMatch(/signed with a key other than the pinned/);
  });

  it('refuses a group-readable key and never overwrites a key', async () => {
    writeFileSync(join(cwd, 'loose'), readFileSync(join(cwd, 'k')));
    chmodSync(join(cwd, 'loose'), 0o644);
    const loose = await runCli(
      ['capture', '--incident', testIncident('LOOSE'), '--test-stream', 'a', '--store', 'es', '--sign-key', 'loose'],
      { cwd, env: env() },
    );
    expect(loose.code).toBe(2);
    expect(loose.stderr).toContain('chmod 600');
    const again = await runCli(['keygen', '--out', 'k'], { cwd, env: env() });
    expect(again.code).toBe(2);
  });

  it('checks every seal: a capture sealed again after approval keeps its first manifest under guard too', async () => {
    const twice = testIncident('TWICE');
    const run = (extra: string[]) =>
      runCli(['capture', '--incident', twice, '--test-stream', 'a', '--store', 'es', '--sign-key', 'k', ...extra], {
        cwd,
        env: env(),
      });
    expect((await run(['--severity', 'low'])).code).toBe(0);
    expect((await run(['--severity', 'low', '--approve-containment'])).code).toBe(0);
    const verify = await runCli(
      ['verify', '--incident', twice, join(cwd, 'es'), '--public-key', join(cwd, 'k.pub'), '--json'],
      { cwd, env: env() },
    );
    expect(verify.code).toBe(0);
    const items = (verify.lines.at(-1) as { items: { kind: string; id: string; ok: boolean }[] }).items;
    const seals = items.filter((i) => i.kind === 'seal');
    expect(seals).toHaveLength(2);
    // The library names the newest manifest from the journal, whatever the keys sort as.
    const { createFsStore, latestManifestKey } = await import('../../src/index.js');
    expect(await latestManifestKey(createFsStore(join(cwd, 'es')), twice)).toBe(seals[1]!.id);
    expect(items.filter((i) => i.kind === 'signature' && i.ok)).toHaveLength(2);

    // Edit the first (older) manifest only: verify names it.
    const copy = mkdtempSync(join(tmpdir(), 'hf-tamper-'));
    cpSync(join(cwd, 'es'), copy, { recursive: true });
    const first = seals[0]!.id;
    rewrite(join(copy, first), (b) => Buffer.from(b.toString().replace('"awaiting-approval"', '"complete"')));
    const tampered = await runCli(['verify', '--incident', twice, copy, '--public-key', join(cwd, 'k.pub')], {
      cwd,
      env: env(),
    });
    expect(tampered.code).toBe(5);
    expect(tampered.stderr).toContain(`FAIL seal`);
    expect(tampered.stderr).toContain(first);
    // Edit the older journal copy only: the newest still chains, but the copies no longer agree.
    const forkCopy = mkdtempSync(join(tmpdir(), 'hf-fork-'));
    cpSync(join(cwd, 'es'), forkCopy, { recursive: true });
    const journals = readdirSync(join(forkCopy, twice, 'journal'))
      .filter((f) => f.endsWith('.ndjson'))
      .map((f) => join(forkCopy, twice, 'journal', f));
    const older = journals.sort((a, b) => statSync(a).size - statSync(b).size)[0]!;
    rewrite(older, (b) => Buffer.from(b.toString().replace('"severity":"low"', '"severity":"high"')));
    const forked = await runCli(['verify', '--incident', twice, forkCopy, '--public-key', join(cwd, 'k.pub')], {
      cwd,
      env: env(),
    });
    expect(forked.code).toBe(5);
    expect(forked.stderr).toMatch(/FAIL journal .*copies that do not extend into the newest/);
  });

  it('signs with a KMS ECC P-256 key (moto) and verifies offline', async () => {
    const kms = new KMSClient({
      endpoint: inject('motoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const key = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
    const kmsIncident = testIncident('KMS');
    const res = await runCli(
      [
        'capture',
        '--incident',
        kmsIncident,
        '--test-stream',
        'a',
        '--store',
        'es',
        '--sign-kms-key',
        key.KeyMetadata!.Arn!,
      ],
      { cwd, env: env() },
    );
    expect(res.code).toBe(0);
    const verify = await runCli(['verify', '--incident', kmsIncident, join(cwd, 'es'), '--require-signature'], {
      cwd,
      env: env(),
    });
    expect(verify.stderr).toMatch(/ok\s+signature .*ecdsa-p256-sha256 signature by arn:aws:kms/);
    expect(verify.code).toBe(0);
  });
});
