/**
 * --hash-snapshots: once a snapshot set has completed, read each snapshot through the EBS direct
 * APIs and add the SHA-256 of its whole volume image to its artifact (`method.imageSha256`), so
 * `verify --hash-snapshots` can recompute and compare. Evidence work, not containment: it runs in
 * the settle phase after the set completed, which is after the instance's containment.
 */
import pLimit from 'p-limit';
import { awsHoldfastError } from '../../src/aws/errors.js';
import { IntegrityError, RemoteError } from '../../src/core/errors.js';
import { getSnapshotBlock, listSnapshotBlocks } from './client.js';
import { ec2ClientsFor } from './context.js';
import { ebsDirectFailure } from './ebs-direct-failure.js';
import { resolveRegion } from '../../src/aws/config.js';
import { hashSnapshotImage } from './snapshot-image.js';
import { ec2OutputOf, type Ec2Outcome, type Ec2StepContext, type SnapshotImageRecord } from './steps.js';

/**
 * Snapshots hashed at once per capture, across instances: each holds a window of blocks in memory
 * (SNAPSHOT_READ_CONCURRENCY × 512 KiB), so a fleet's memory stays flat.
 */
export const SNAPSHOT_HASHES_AT_ONCE = 2;
/** Progress reports while an image is hashed, at most this often. */
const PROGRESS_EVERY_MS = 1000;

/** Hash each snapshot of the set that has no image hash yet; a snapshot that cannot be hashed fails the step, naming it. */
export async function runHashSnapshots(ctx: Ec2StepContext<'hash-snapshots'>): Promise<Ec2Outcome<'hash-snapshots'>> {
  const c = ec2ClientsFor(ctx);
  const { instanceId, snapshotStep } = ctx.step.inputs;
  const ids = ec2OutputOf(ctx, 'snapshot', snapshotStep)?.snapshotIds ?? [];
  if (!ids.length) throw new RemoteError(`no snapshots recorded for ${instanceId}`, false);
  const slot = ctx.run.memo('ec2:hash-slots', () => pLimit(SNAPSHOT_HASHES_AT_ONCE));
  const hashed: SnapshotImageRecord[] = [];
  const failed: { snapshotId: string; error: Error }[] = [];
  for (const snapshotId of ids) {
    const artifactId = `${snapshotStep}/${snapshotId}`;
    const artifact = ctx.artifactOf(artifactId);
    if (!artifact) {
      failed.push({ snapshotId, error: new IntegrityError(`no artifact ${artifactId} recorded`) });
      continue;
    }
    const m = artifact.method;
    if (typeof m.imageSha256 === 'string') {
      // Hashed by an earlier, interrupted run: recorded already, not read again.
      hashed.push(recordOf(snapshotId, m));
      continue;
    }
    try {
      const image = await slot(() => hashOne(ctx, snapshotId, c));
      const record: SnapshotImageRecord = {
        snapshotId,
        imageSha256: image.sha256,
        imageSize: image.size,
        imageBlockSize: image.blockSize,
        imageWrittenBlocks: image.writtenBlocks,
      };
      await ctx.amendArtifactMethod(artifactId, {
        imageSha256: record.imageSha256,
        imageSize: record.imageSize,
        imageBlockSize: record.imageBlockSize,
        imageWrittenBlocks: record.imageWrittenBlocks,
        imageApi: 'ListSnapshotBlocks+GetSnapshotBlock',
      });
      hashed.push(record);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      failed.push({
        snapshotId,
        error: awsHoldfastError(ebsDirectFailure(error, snapshotId, resolveRegion(ctx.kase.region, ctx.env))),
      });
    }
  }
  if (failed.length) {
    // Each failure's message names its snapshot already.
    const message = `image hash of ${failed.length} of ${ids.length} snapshots of ${instanceId} could not be computed: ${failed.map((f) => f.error.message).join('; ')}`;
    // Retried only when every failure may pass (throttling, a dropped connection); hashed ones are kept.
    const retryable = failed.every((f) => f.error instanceof RemoteError && f.error.retryable);
    throw new RemoteError(message, retryable, { cause: failed[0]!.error });
  }
  return { outputs: { hashed } };
}

async function hashOne(ctx: Ec2StepContext<'hash-snapshots'>, snapshotId: string, c: ReturnType<typeof ec2ClientsFor>) {
  const started = Date.now();
  let last = 0;
  const api = {
    list: (next?: string) => listSnapshotBlocks(c, snapshotId, next),
    get: (index: number, token: string) => getSnapshotBlock(c, snapshotId, index, token, ctx.signal),
  };
  const report = (bytes: number, total: number, done: boolean) => {
    const seconds = (Date.now() - started) / 1000;
    ctx.reportProgress({
      bytes,
      bytesPerSecond: seconds > 0 ? Math.round(bytes / seconds) : 0,
      percent: total ? Math.floor((bytes / total) * 100) : 0,
      waitingOn: `image of ${snapshotId} (EBS direct APIs)`,
      done,
    });
  };
  const image = await hashSnapshotImage(api, snapshotId, {
    signal: ctx.signal,
    onProgress: (bytes, total) => {
      if (Date.now() - last < PROGRESS_EVERY_MS) return;
      last = Date.now();
      report(bytes, total, false);
    },
  });
  report(image.size, image.size, true);
  return image;
}

function recordOf(snapshotId: string, m: Record<string, unknown>): SnapshotImageRecord {
  return {
    snapshotId,
    imageSha256: String(m.imageSha256),
    imageSize: Number(m.imageSize ?? 0),
    imageBlockSize: Number(m.imageBlockSize ?? 0),
    imageWrittenBlocks: Number(m.imageWrittenBlocks ?? 0),
  };
}
