import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../src/aws/config.js';
import { hashReadable } from '../../src/evidence/hash.js';
import { GuardRefusal } from '../../src/core/guard.js';
import { createS3Client } from '../../providers/s3-store/client.js';
import { createS3Store } from '../../providers/s3-store/index.js';
import { createTestBucket, motoEnv, testS3 } from '../support/aws.js';

function spec(bucket: string, extra: Partial<{ allowUnlocked: boolean; legalHold: boolean }> = {}) {
  return {
    kind: 's3' as const,
    bucket,
    prefix: 'cases',
    retainDays: 2,
    retentionMode: 'GOVERNANCE' as const,
    legalHold: false,
    allowUnlocked: false,
    ...extra,
  };
}

function storeFor(bucket: string, extra = {}) {
  const s = spec(bucket, extra);
  return createS3Store(s, awsClientConfig({ kase: { store: s } as never, env: motoEnv(), clients: {} }));
}

function generated(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return this.push(null);
      const n = Math.min(1 << 20, size - sent);
      this.push(Buffer.alloc(n, sent % 256));
      sent += n;
    },
  });
}

describe('S3 evidence store (moto server)', () => {
  it('streams a multipart object, hashes the whole object itself, locks it and reads it back by version', async () => {
    const bucket = await createTestBucket();
    const store = storeFor(bucket, { legalHold: true });
    const size = 40 * 1024 * 1024; // > 2 parts of 16 MiB
    const expected = await hashReadable(generated(size));
    const stored = await store.put('IR-S3-1/artifacts/x/big.bin', generated(size));
    expect(stored.sha256).toBe(expected.sha256);
    expect(stored.size).toBe(size);
    expect(stored.versionId).toBeTruthy();
    expect(stored.preservation).toMatchObject({ lockMode: 'GOVERNANCE', legalHold: true });

    const s3 = await testS3();
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cases/IR-S3-1/artifacts/x/big.bin' }));
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    expect(head.ObjectLockLegalHoldStatus).toBe('ON');
    expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now() + 86_400_000);

    const back = await hashReadable(await store.get('IR-S3-1/artifacts/x/big.bin', stored.versionId));
    expect(back).toEqual(expected);
    expect(await store.list('IR-S3-1/')).toEqual(['IR-S3-1/artifacts/x/big.bin']);
  });

  it('never overwrites a key', async () => {
    const bucket = await createTestBucket();
    const store = storeFor(bucket);
    await store.put('IR-S3-2/a.txt', 'first');
    await expect(store.put('IR-S3-2/a.txt', 'second')).rejects.toThrow(
      /refusing to overwrite|already exists|Precondition/i,
    );
    const text = createHash('sha256').update('first').digest('hex');
    expect((await hashReadable(await store.get('IR-S3-2/a.txt'))).sha256).toBe(text);
  });

  it('refuses a bucket without Object Lock unless allowed, and says so', async () => {
    const bucket = await createTestBucket({ locked: false });
    const strict = await storeFor(bucket).preflight();
    expect(strict.ok).toBe(false);
    expect(strict.problems.join()).toMatch(/no Object Lock.*`allowUnlockedStore`/);
    await expect(storeFor(bucket).put('IR-S3-3/a', 'x')).rejects.toThrow(/no Object Lock/);
    const lenient = await storeFor(bucket, { allowUnlocked: true }).preflight();
    expect(lenient).toMatchObject({ ok: true });
    expect(lenient.limitations.join()).toMatch(/can be deleted or replaced/);
  });

  it('the guard refuses a delete before it is sent, so the object stays', async () => {
    const bucket = await createTestBucket();
    const store = storeFor(bucket);
    const kept = await store.put('IR-S3-4/keep.txt', 'evidence');
    const client = createS3Client(
      awsClientConfig({ kase: { store: spec(bucket) } as never, env: motoEnv(), clients: {} }),
    );
    await expect(
      client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'cases/IR-S3-4/keep.txt' })),
    ).rejects.toBeInstanceOf(GuardRefusal);
    expect(await store.head('IR-S3-4/keep.txt')).toMatchObject({ size: 8 });
    // The version we wrote is still the current one and still locked (moto has no
    // GetObjectRetention; HeadObject carries the retention, emulators.md).
    const s3 = await testS3();
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cases/IR-S3-4/keep.txt' }));
    expect(head.VersionId).toBe(kept.versionId);
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
  });
});
