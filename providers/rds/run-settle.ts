/** RDS settle phase: wait until the snapshot is available. */
import { setTimeout as delay } from 'node:timers/promises';
import { RemoteError } from '../../src/core/errors.js';
import { findDbSnapshot } from './client.js';
import { rdsClientsFor } from './context.js';
import type { RdsOutcome, RdsStepContext } from './steps.js';

export const DB_SNAPSHOT_POLL_INTERVAL_MS = 15_000;
export const DB_SNAPSHOT_WAIT_LIMIT_MS = 12 * 60 * 60 * 1000;

export async function runSettle(ctx: RdsStepContext<'settle'>): Promise<RdsOutcome<'settle'>> {
  const { kind, snapshotId } = ctx.step.inputs;
  const c = rdsClientsFor(ctx);
  const deadline = Date.now() + DB_SNAPSHOT_WAIT_LIMIT_MS;
  for (;;) {
    const snap = await findDbSnapshot(c, kind, snapshotId);
    if (!snap) throw new RemoteError(`snapshot ${snapshotId} disappeared`, false);
    if (snap.status === 'available') return { outputs: { snapshotId, status: snap.status } };
    if (/fail|error/i.test(snap.status)) throw new RemoteError(`snapshot ${snapshotId} is ${snap.status}`, false);
    ctx.progress(`snapshot ${snapshotId} is ${snap.status}`);
    ctx.reportProgress({ waitingOn: `RDS snapshot ${snapshotId} (${snap.status})` });
    if (Date.now() > deadline) throw new RemoteError(`snapshot ${snapshotId} still ${snap.status}`, true);
    await delay(DB_SNAPSHOT_POLL_INTERVAL_MS, undefined, { signal: ctx.signal });
  }
}
