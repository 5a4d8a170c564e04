import { describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../src/aws/config.js';
import { hashReadable } from '../../src/evidence/hash.js';
import { createS3Client } from '../../providers/s3-store/client.js';
import { createS3Store } from '../../providers/s3-store/index.js';
import { clientDefaults, createTestBucket, motoEnv } from '../support/aws.js';
import { DESTRUCTIVE_ACTION, grantedActions, policyAllows, readPolicy, recordCommands } from '../support/policy.js';

/** IAM actions of S3 API calls whose names differ from their action. */
const S3_ACTION: Record<string, string> = {
  'S3:ListObjectsV2': 's3:ListBucket',
  'S3:HeadBucket': 's3:ListBucket',
  'S3:HeadObject': 's3:GetObject',
  'S3:GetObjectLockConfiguration': 's3:GetBucketObjectLockConfiguration',
  'S3:CreateMultipartUpload': 's3:PutObject',
  'S3:UploadPart': 's3:PutObject',
  'S3:CompleteMultipartUpload': 's3:PutObject',
  'S3:ListParts': 's3:ListMultipartUploadParts',
};

describe('policies/aws/s3-store.json', () => {
  it('grants every call the store makes, and nothing unused or destructive', async () => {
    const bucket = await createTestBucket();
    const spec = {
      kind: 's3' as const,
      bucket,
      prefix: '',
      retainDays: 1,
      retentionMode: 'GOVERNANCE' as const,
      legalHold: true,
      allowUnlocked: false,
    };
    const client = createS3Client(awsClientConfig({ kase: { store: spec } as never, env: motoEnv(), clients: {} }));
    const sent = new Set<string>();
    recordCommands(client as never, 'S3', sent);
    const store = createS3Store(spec, { region: 'us-east-1', ...clientDefaults() }, client);
    await store.preflight();
    const small = await store.put('IR-POL-1/a.txt', 'small');
    await store.put('IR-POL-1/b.bin', Buffer.alloc(20 * 1024 * 1024, 1));
    await hashReadable(await store.get('IR-POL-1/a.txt', small.versionId));
    await store.head('IR-POL-1/a.txt');
    // What a host writes through presigned URLs (the memory step): one PUT, or parts holdfast completes.
    await store.remote!.readUrl('IR-POL-1/a.txt', small.versionId, 60);
    await store.remote!.writeUrls('IR-POL-1/c.bin', {
      parts: 1,
      expiresInSeconds: 60,
      contentType: 'application/octet-stream',
    });
    const parts = await store.remote!.writeUrls('IR-POL-1/d.bin', {
      parts: 2,
      expiresInSeconds: 60,
      contentType: 'application/octet-stream',
    });
    expect(
      await fetch(parts.urls[0]!, { method: 'PUT', body: Buffer.alloc(5 * 1024 * 1024, 2) }).then((r) => r.status),
    ).toBe(200);
    expect(await store.remote!.complete('IR-POL-1/d.bin', parts.uploadId!)).toBe(true);
    await store.remote!.seal('IR-POL-1/d.bin', (await store.head('IR-POL-1/d.bin'))?.versionId);
    await store.list('IR-POL-1/');

    const policy = readPolicy('aws/s3-store.json');
    const used = [...sent].map((c) => S3_ACTION[c] ?? c.replace(/^S3:/, 's3:'));
    // Reading by VersionId needs s3:GetObjectVersion as well.
    used.push('s3:GetObjectVersion', 'sts:GetCallerIdentity');
    for (const action of used) expect(policyAllows(policy, action), action).toBe(true);
    expect(grantedActions(policy).filter((a) => !used.includes(a))).toEqual([]);
    expect(grantedActions(policy).filter((a) => DESTRUCTIVE_ACTION.test(a))).toEqual([]);
    expect(policyAllows(policy, 's3:DeleteObject')).toBe(false);
  });
});
