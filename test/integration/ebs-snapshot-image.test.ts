/**
 * The snapshot image reader against moto's EBS direct APIs. moto serves them only for snapshots
 * made through them, so the test makes one with StartSnapshot/PutSnapshotBlock and known content
 * (test/support/ebs.ts): the image hash must equal the SHA-256 of the volume computed there
 * (unwritten blocks as zeros), and a block whose bytes do not match its checksum must fail naming
 * the block. The capture → record → verify cycle is in test/cli/evidence-format.test.ts.
 */
import { describe, expect, inject, it } from 'vitest';
import { createEc2Clients, getSnapshotBlock, listSnapshotBlocks } from '../../providers/ec2/client.js';
import { hashSnapshotImage, type SnapshotBlockApi } from '../../providers/ec2/snapshot-image.js';
import { makeKnownSnapshot } from '../support/ebs.js';

const config = () => ({
  endpoint: inject('motoEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
});

function api(snapshotId: string, counter?: { inFlight: number; max: number }): SnapshotBlockApi {
  const c = createEc2Clients(config() as never);
  return {
    list: (next) => listSnapshotBlocks(c, snapshotId, next),
    get: async (index, token) => {
      if (counter) counter.max = Math.max(counter.max, ++counter.inFlight);
      try {
        return await getSnapshotBlock(c, snapshotId, index, token);
      } finally {
        if (counter) counter.inFlight--;
      }
    },
  };
}

describe('EBS snapshot image hash (EBS direct APIs, moto)', () => {
  it('hashes the whole volume image, unwritten blocks as zeros, with bounded concurrency, reporting progress', async () => {
    const { snapshotId, blockSize, expected } = await makeKnownSnapshot(inject('motoEndpoint'));
    const counter = { inFlight: 0, max: 0 };
    const seen: number[] = [];
    const image = await hashSnapshotImage(api(snapshotId, counter), snapshotId, {
      concurrency: 2,
      onProgress: (hashed, total) => {
        expect(total).toBe(1024 ** 3);
        seen.push(hashed);
      },
    });
    expect(image).toEqual({ sha256: expected, size: 1024 ** 3, blockSize, writtenBlocks: 3 });
    expect(counter.max).toBeLessThanOrEqual(2);
    expect(seen.at(-1)).toBe(1024 ** 3);
    expect(seen.every((n, i) => i === 0 || n > seen[i - 1]!)).toBe(true);
  });

  it('fails naming the block whose bytes do not match the checksum EBS returns', async () => {
    const { snapshotId } = await makeKnownSnapshot(inject('motoEndpoint'), { badBlock: 7 });
    await expect(hashSnapshotImage(api(snapshotId), snapshotId)).rejects.toThrow(
      new RegExp(`snapshot ${snapshotId} block 7: bytes hash to`),
    );
  });
});
