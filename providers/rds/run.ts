/** RDS steps: protect, snapshot (found again by identifier), isolation groups, group swap, settle. */
import { setTimeout as delay } from 'node:timers/promises';
import { BadInputError, RemoteError } from '../../src/core/errors.js';
import { runIsolationGroupStep } from '../../src/aws/isolation-group.js';
import type { JsonObject, ProviderContext } from '../../src/core/types.js';
import {
  addTags,
  createDbSnapshot,
  describeDbCluster,
  describeDbInstance,
  findDbSnapshot,
  protectFromDeletion,
  securityGroupApi,
  setDbGroups,
} from './client.js';
import { rdsClientsFor } from './context.js';
import { isValidRdsSnapshotIdentifier } from './snapshot-id.js';
import { rdsOutputOf, type DbKind, type RdsOutcome, type RdsStepContext } from './steps.js';

export const DB_SNAPSHOT_POLL_INTERVAL_MS = 15_000;
export const DB_SNAPSHOT_WAIT_LIMIT_MS = 12 * 60 * 60 * 1000;

async function currentGroupsAndProtection(
  ctx: Pick<ProviderContext, 'clients' | 'kase' | 'env' | 'run'>,
  kind: DbKind,
  id: string,
) {
  const c = rdsClientsFor(ctx);
  if (kind === 'instance') {
    const db = await describeDbInstance(c, id);
    return {
      groups: (db?.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).sort(),
      protection: Boolean(db?.DeletionProtection),
      pending: db?.PendingModifiedValues ?? {},
    };
  }
  const cl = await describeDbCluster(c, id);
  return {
    groups: (cl?.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).sort(),
    protection: Boolean(cl?.DeletionProtection),
    pending: cl?.PendingModifiedValues ?? {},
  };
}

export async function runProtect(ctx: RdsStepContext<'protect'>): Promise<RdsOutcome<'protect'>> {
  const { kind, id, arn } = ctx.step.inputs;
  const c = rdsClientsFor(ctx);
  const tags = { 'holdfast:incident': ctx.incident, 'holdfast:do-not-delete': 'true' };
  // Write-ahead: the record is durable before the call is sent.
  await ctx.recordChange({ resource: arn, attribute: 'tags', before: null, after: tags, reversible: false });
  await addTags(c, arn, tags);
  const now = await currentGroupsAndProtection(ctx, kind, id);
  if (!now.protection) {
    await ctx.recordChange({
      resource: arn,
      attribute: 'deletionProtection',
      before: false,
      after: true,
      reversible: false,
    });
    await protectFromDeletion(c, kind, id);
  }
  return {};
}

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

export async function runIsolationGroup(
  ctx: RdsStepContext<'isolation-group'>,
): Promise<RdsOutcome<'isolation-group'>> {
  return runIsolationGroupStep(securityGroupApi(rdsClientsFor(ctx)), ctx);
}

export async function runIsolate(ctx: RdsStepContext<'isolate'>): Promise<RdsOutcome<'isolate'>> {
  const { kind, id, vpcId, approvePending } = ctx.step.inputs;
  const groups = rdsOutputOf(ctx, 'isolation-group', `rds:isolation-group/${vpcId}`);
  if (!groups) throw new RemoteError(`no isolation group for ${vpcId}`, false);
  const now = await currentGroupsAndProtection(ctx, kind, id);
  if (now.groups.length === 1 && now.groups[0] === groups.isolationGroupId) return { note: `${id} already isolated` };
  const pending = Object.fromEntries(Object.entries(now.pending).filter(([, v]) => v !== undefined && v !== null));
  if (Object.keys(pending).length && !approvePending) {
    // ApplyImmediately would apply these too; a responder must agree to that first.
    throw new RemoteError(
      `${id} has pending modifications (${Object.keys(pending).join(', ')}) that isolation would apply at once; re-run with --approve-pending`,
      false,
    );
  }
  await ctx.recordChange({
    resource: `${kind}:${id}`,
    attribute: 'vpcSecurityGroups',
    before: now.groups,
    after: [groups.isolationGroupId],
    reversible: true,
  });
  if (Object.keys(pending).length)
    await ctx.recordChange({
      resource: `${kind}:${id}`,
      attribute: 'pendingModifiedValues',
      before: pending as JsonObject,
      after: 'applied with the isolation (--approve-pending)',
      reversible: false,
    });
  await setDbGroups(rdsClientsFor(ctx), kind, id, [groups.isolationGroupId]);
  return {};
}

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
