/** RDS collect phase: the snapshot, found again by its deterministic identifier on a re-run. */
import { BadInputError } from '../../src/core/errors.js';
import { createDbSnapshot, findDbSnapshot } from './client.js';
import { rdsClientsFor } from './context.js';
import { isValidRdsSnapshotIdentifier } from './snapshot-id.js';
import type { RdsOutcome, RdsStepContext } from './steps.js';

export async function runSnapshot(ctx: RdsStepContext<'snapshot'>): Promise<RdsOutcome<'snapshot'>> {
  const { kind, id, snapshotId, region, engine, members } = ctx.step.inputs;
  if (!isValidRdsSnapshotIdentifier(snapshotId))
    throw new BadInputError(`snapshot identifier ${snapshotId} breaks RDS rules`);
  const c = rdsClientsFor(ctx);
  let snap = await findDbSnapshot(c, kind, snapshotId);
  const adopted = Boolean(snap);
  if (!snap) {
    await ctx.recordIntent({ create: kind === 'instance' ? 'db-snapshot' : 'db-cluster-snapshot', id, snapshotId });
    const requestedAt = new Date().toISOString();
    await createDbSnapshot(c, kind, id, snapshotId, snapshotTags(ctx));
    snap = (await findDbSnapshot(c, kind, snapshotId)) ?? {
      id: snapshotId,
      status: 'creating',
      createdAt: requestedAt,
      encrypted: false,
    };
  }
  ctx.recordArtifact({
    name: snapshotId,
    type: kind === 'instance' ? 'rds-snapshot' : 'rds-cluster-snapshot',
    source: {
      [kind === 'instance' ? 'dbInstance' : 'dbCluster']: id,
      engine,
      region,
      ...(members.length ? { members } : {}),
    },
    acquiredAt: snap.createdAt ?? new Date().toISOString(),
    location: {
      snapshotId,
      region,
      ...(snap.arn ? { arn: snap.arn } : {}),
      encrypted: snap.encrypted,
      ...(snap.kmsKeyId ? { kmsKeyId: snap.kmsKeyId } : {}),
    },
    method: {
      api: kind === 'instance' ? 'CreateDBSnapshot' : 'CreateDBClusterSnapshot',
      consistency: 'storage-level, crash-consistent',
    },
    // What verify finds on the snapshot later: the tags as they are now (an adopted one keeps its own).
    preservation: { tags: snap.tags ?? snapshotTags(ctx) },
  });
  return { outputs: { snapshotId, adopted }, ...(adopted ? { note: `found existing snapshot ${snapshotId}` } : {}) };
}

function snapshotTags(ctx: { incident: string; step: { id: string } }): Record<string, string> {
  return { 'holdfast:incident': ctx.incident, 'holdfast:step': ctx.step.id, 'holdfast:do-not-delete': 'true' };
}
