/**
 * The snapshot image reader against moto's EBS direct APIs. moto serves them only for snapshots
 * made through them, so the test makes one with StartSnapshot/PutSnapshotBlock and known content:
 * the image hash must equal the SHA-256 of the volume computed here (unwritten blocks as zeros), and
 * a block whose bytes do not match its checksum must fail naming the block.
 */
import { createHash } from 'node:crypto';
import { CompleteSnapshotCommand, EBSClient, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { describe, expect, inject, it } from 'vitest';
import { createEc2Clients, getSnapshotBlock, listSnapshotBlocks } from '../../providers/ec2/client.js';
import { hashSnapshotImage, type SnapshotBlockApi } from '../../providers/ec2/snapshot-image.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import type { ArtifactRecord, ProviderContext } from '../../src/core/types.js';

const config = () => ({
  endpoint: inject('motoEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
});

/** A 1 GiB snapshot with three written blocks (first, one in the middle, last); one block's checksum can be wrong. */
async function makeSnapshot(badBlock?: number) {
  const ebs = new EBSClient(config());
  const started = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Description: 'holdfast reader test' }));
  const blockSize = started.BlockSize!;
  const total = 1024 ** 3 / blockSize;
  const written = new Map<number, Buffer>();
  for (const index of [0, 7, total - 1]) {
    const data = Buffer.alloc(blockSize, index % 251);
    data.write(`block ${index}`);
    written.set(index, data);
    const checksum = createHash('sha256')
      .update(index === badBlock ? Buffer.from('not these bytes') : data)
      .digest('base64');
    await ebs.send(
      new PutSnapshotBlockCommand({
        SnapshotId: started.SnapshotId!,
        BlockIndex: index,
        BlockData: data,
        DataLength: data.length,
        Checksum: checksum,
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  }
  await ebs.send(new CompleteSnapshotCommand({ SnapshotId: started.SnapshotId!, ChangedBlocksCount: written.size }));
  // The expected image: every block in order, zeros where nothing was written.
  const expected = createHash('sha256');
  const zeros = (blocks: number) => expected.update(Buffer.alloc(blocks * blockSize));
  let at = 0;
  for (const index of [...written.keys()].sort((a, b) => a - b)) {
    zeros(index - at);
    expected.update(written.get(index)!);
    at = index + 1;
  }
  zeros(total - at);
  return { snapshotId: started.SnapshotId!, blockSize, expected: expected.digest('hex') };
}

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
  it('hashes the whole volume image, unwritten blocks as zeros, with bounded concurrency', async () => {
    const { snapshotId, blockSize, expected } = await makeSnapshot();
    const counter = { inFlight: 0, max: 0 };
    const image = await hashSnapshotImage(api(snapshotId, counter), snapshotId, { concurrency: 2 });
    expect(image).toEqual({ sha256: expected, size: 1024 ** 3, blockSize, writtenBlocks: 3 });
    expect(counter.max).toBeLessThanOrEqual(2);
  });

  it('fails naming the block whose bytes do not match the checksum EBS returns', async () => {
    const { snapshotId } = await makeSnapshot(7);
    await expect(hashSnapshotImage(api(snapshotId), snapshotId)).rejects.toThrow(
      new RegExp(`snapshot ${snapshotId} block 7: bytes hash to`),
    );
  });

  it('verify --hash-snapshots recomputes the image: as recorded passes, a different recorded hash fails', async () => {
    const { snapshotId, expected } = await makeSnapshot();
    const clients = createEc2Clients(config() as never);
    const snap = (await clients.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0]!;
    const ctx = {
      incident: 'IR-IMG',
      kase: { region: 'us-east-1' },
      clients: { ec2: clients },
      env: process.env,
      signal: new AbortController().signal,
      dryRun: true,
    } as unknown as ProviderContext;
    const artifact = (imageSha256: string): ArtifactRecord => ({
      id: `ec2:snapshot/x/${snapshotId}`,
      type: 'ebs-snapshot',
      stepId: 'ec2:snapshot/x',
      source: {},
      acquiredAt: snap.StartTime!.toISOString(),
      location: { snapshotId, region: 'us-east-1' },
      method: { api: 'StartSnapshot (test)', imageSha256 },
    });
    const ok = await ec2Provider.checkEvidence(artifact(expected), ctx, { hashContent: true });
    expect(ok).toMatchObject({ ok: true });
    expect(ok!.detail).toContain(`image sha256 ${expected}`);
    const bad = await ec2Provider.checkEvidence(artifact('0'.repeat(64)), ctx, { hashContent: true });
    expect(bad).toMatchObject({ ok: false });
    expect(bad!.detail).toContain(`recorded ${'0'.repeat(64)}`);
  });
});
