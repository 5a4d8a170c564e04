/** Settle: wait for the snapshots to complete, then copy (locked, when asked) and share them with a forensic account. */
import { setTimeout as delay } from 'node:timers/promises';
import { RemoteError } from '../../src/core/errors.js';
import { copySnapshot, describeSnapshots, shareSnapshot, snapshotsByTags } from './client.js';
import { ec2ClientsFor } from './context.js';
import { ec2FleetFor } from './fleet.js';
import { ec2OutputOf, type Ec2Outcome, type Ec2StepContext } from './steps.js';
import { lockSnapshots } from './snapshot-lock.js';

/** How often to poll snapshot progress. */
export const SNAPSHOT_POLL_INTERVAL_MS = 15_000;
/** How long settle waits for a snapshot set at most. */
export const SNAPSHOT_WAIT_LIMIT_MS = 6 * 60 * 60 * 1000;

/** Wait for the snapshot set to complete, then copy and share it as asked (the set itself was locked when taken). */
export async function runSettle(ctx: Ec2StepContext<'settle'>): Promise<Ec2Outcome<'settle'>> {
  const c = ec2ClientsFor(ctx);
  const input = ctx.step.inputs;
  const ids = ec2OutputOf(ctx, 'snapshot', input.snapshotStep)?.snapshotIds ?? [];
  if (!ids.length) throw new RemoteError(`no snapshots recorded for ${input.instanceId}`, false);
  const deadline = Date.now() + SNAPSHOT_WAIT_LIMIT_MS;
  for (;;) {
    // Batched with every other instance's settle: one DescribeSnapshots per poll, not one each.
    const snaps = await ec2FleetFor(ctx).snapshotStates(ids);
    const failed = snaps.filter((s) => s.State === 'error');
    if (failed.length)
      throw new RemoteError(
        `snapshot ${failed.map((s) => s.SnapshotId).join(', ')} failed: ${failed[0]?.StateMessage ?? 'error'}`,
        false,
      );
    const pending = snaps.filter((s) => s.State !== 'completed');
    ctx.reportProgress({
      percent: snapshotSetPercent(snaps),
      waitingOn: `${pending.length} of ${snaps.length} EBS snapshots to complete`,
      done: !pending.length,
    });
    if (!pending.length) break;
    ctx.progress(`${snaps.length - pending.length}/${snaps.length} snapshots complete`, {
      progress: pending.map((s) => `${s.SnapshotId} ${s.Progress ?? '?'}`),
    });
    if (Date.now() > deadline)
      throw new RemoteError(`snapshots still pending after ${SNAPSHOT_WAIT_LIMIT_MS / 3_600_000} h`, true);
    await delay(SNAPSHOT_POLL_INTERVAL_MS, undefined, { signal: ctx.signal });
  }
  const limitations: string[] = [];
  const copies: string[] = [];
  if (input.copyToAccount && input.kmsKey) {
    for (const id of ids) {
      const tags = { 'holdfast:incident': ctx.incident, 'holdfast:copy-of': id, 'holdfast:do-not-delete': 'true' };
      let [copy] = await snapshotsByTags(c, { 'holdfast:incident': ctx.incident, 'holdfast:copy-of': id });
      if (!copy) {
        await ctx.recordIntent({ create: 'snapshot-copy', source: id, kmsKey: input.kmsKey });
        const copyId = await copySnapshot(c, id, input.region, input.kmsKey, tags);
        [copy] = await describeSnapshots(c, [copyId]);
      }
      ctx.recordIntent({ change: 'snapshot-share', snapshotId: copy!.SnapshotId!, account: input.copyToAccount });
      await shareSnapshot(c, copy!.SnapshotId!, input.copyToAccount);
      copies.push(copy!.SnapshotId!);
      const locked = input.lockDays ? await lockSnapshots(c, [copy!.SnapshotId!], input.lockDays) : undefined;
      limitations.push(...(locked?.limitations ?? []));
      ctx.recordArtifact({
        name: copy!.SnapshotId!,
        type: 'ebs-snapshot-copy',
        source: { snapshotId: id, region: input.region },
        acquiredAt: (copy!.StartTime ?? new Date()).toISOString(),
        location: {
          snapshotId: copy!.SnapshotId!,
          region: input.region,
          kmsKeyId: input.kmsKey,
          sharedWith: input.copyToAccount,
        },
        method: { api: 'CopySnapshot+ModifySnapshotAttribute', consistency: 'copy of the crash-consistent set' },
        preservation: { tags, ...(locked?.locks[copy!.SnapshotId!] ?? {}) },
      });
    }
  }
  return { outputs: { completed: ids, copies }, limitations };
}

/** The set's percent done: the mean of each snapshot's Progress ("45%"); a completed one counts 100. */
export function snapshotSetPercent(snaps: { State?: string | undefined; Progress?: string | undefined }[]): number {
  if (!snaps.length) return 0;
  const each = snaps.map((s) => (s.State === 'completed' ? 100 : Number.parseFloat(s.Progress ?? '') || 0));
  return Math.round(each.reduce((a, b) => a + b, 0) / snaps.length);
}
