/**
 * Snapshots with known content for the --hash-snapshots tests. moto's EBS direct APIs serve only
 * snapshots made through them (StartSnapshot makes an EC2 volume and an EC2 snapshot of it), so a
 * test writes known blocks with PutSnapshotBlock and computes the image's SHA-256 itself.
 */
import { createHash } from 'node:crypto';
import { CompleteSnapshotCommand, EBSClient, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import {
  AttachVolumeCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DetachVolumeCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';

const BYTES_PER_GIB = 1024 ** 3;

const config = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
});

/** A block's test content: its index as a fill byte and as text. */
export function testBlock(blockSize: number, index: number, salt = ''): Buffer {
  const data = Buffer.alloc(blockSize, index % 251);
  data.write(`block ${index}${salt}`);
  return data;
}

/** A 1 GiB snapshot made through the EBS direct APIs, with its blocks and the image hash they give. */
export interface KnownSnapshot {
  snapshotId: string;
  volumeId: string;
  blockSize: number;
  /** SHA-256 (hex) of the whole 1 GiB image: written blocks in order, zeros elsewhere. */
  expected: string;
  /** Write (or overwrite) one block of the snapshot, with a correct checksum; returns the new image hash. */
  putBlock(index: number, data: Buffer): Promise<string>;
}

/**
 * StartSnapshot + PutSnapshotBlock (first, one in the middle, last) + CompleteSnapshot.
 * `badBlock` gets a checksum that does not match its bytes (moto stores what it is told).
 */
export async function makeKnownSnapshot(
  endpoint: string,
  options: { badBlock?: number; tags?: Record<string, string> } = {},
): Promise<KnownSnapshot> {
  const ebs = new EBSClient(config(endpoint));
  const started = await ebs.send(
    new StartSnapshotCommand({
      VolumeSize: 1,
      Description: 'holdfast test image',
      ...(options.tags ? { Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
    }),
  );
  const snapshotId = started.SnapshotId!;
  const blockSize = started.BlockSize!;
  const total = BYTES_PER_GIB / blockSize;
  const written = new Map<number, Buffer>();
  const put = async (index: number, data: Buffer, checksumOf = data) => {
    written.set(index, data);
    await ebs.send(
      new PutSnapshotBlockCommand({
        SnapshotId: snapshotId,
        BlockIndex: index,
        BlockData: data,
        DataLength: data.length,
        Checksum: createHash('sha256').update(checksumOf).digest('base64'),
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  };
  for (const index of [0, 7, total - 1]) {
    const data = testBlock(blockSize, index);
    await put(index, data, index === options.badBlock ? Buffer.from('not these bytes') : data);
  }
  await ebs.send(new CompleteSnapshotCommand({ SnapshotId: snapshotId, ChangedBlocksCount: written.size }));
  // The expected image: every block in order, zeros where nothing was written.
  const imageHash = () => {
    const hash = createHash('sha256');
    const zeros = (blocks: number) => hash.update(Buffer.alloc(blocks * blockSize));
    let at = 0;
    for (const index of [...written.keys()].sort((a, b) => a - b)) {
      zeros(index - at);
      hash.update(written.get(index)!);
      at = index + 1;
    }
    zeros(total - at);
    return hash.digest('hex');
  };
  const ec2 = new EC2Client(config(endpoint));
  const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
  return {
    snapshotId,
    volumeId: Snapshots![0]!.VolumeId!,
    blockSize,
    expected: imageHash(),
    async putBlock(index, data) {
      await put(index, data);
      return imageHash();
    },
  };
}

/**
 * An instance whose only volume is the volume of a known snapshot, and that snapshot tagged the way
 * a capture tags the set it takes (incident + snapshot step), so a capture without a journal adopts
 * it instead of taking another (providers/ec2/run-collect.ts) and hashes known content.
 */
export async function instanceWithKnownSnapshot(
  endpoint: string,
  incident: string,
): Promise<KnownSnapshot & { instanceId: string }> {
  const ec2 = new EC2Client(config(endpoint));
  const image = (await ec2.send(new DescribeImagesCommand({ MaxResults: 5 }))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  const instance = (
    await ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }))
  ).Instances![0]!;
  const instanceId = instance.InstanceId!;
  const snap = await makeKnownSnapshot(endpoint);
  await ec2.send(
    new CreateTagsCommand({
      Resources: [snap.snapshotId],
      Tags: [
        { Key: 'holdfast:incident', Value: incident },
        { Key: 'holdfast:step', Value: `ec2:snapshot/${instanceId}` },
        { Key: 'holdfast:instance', Value: instanceId },
        { Key: 'holdfast:do-not-delete', Value: 'true' },
      ],
    }),
  );
  // Test set-up only (holdfast's own guard refuses detaching): the instance's disk becomes the snapshot's volume.
  const described = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0]!
    .Instances![0]!;
  for (const m of described.BlockDeviceMappings ?? []) {
    await ec2.send(new DetachVolumeCommand({ VolumeId: m.Ebs!.VolumeId!, InstanceId: instanceId }));
  }
  await ec2.send(new AttachVolumeCommand({ VolumeId: snap.volumeId, InstanceId: instanceId, Device: '/dev/sda1' }));
  return { ...snap, instanceId };
}
