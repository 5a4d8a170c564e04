/** RDS preserve phase: tag the database and turn deletion protection on (journaled first). */
import type { ProviderContext } from '../../src/core/types.js';
import { addTags, describeDbCluster, describeDbInstance, protectFromDeletion } from './client.js';
import { rdsClientsFor } from './context.js';
import type { DbKind, RdsOutcome, RdsStepContext } from './steps.js';

/** A database's security groups, deletion protection and pending modifications as they are now. */
export async function currentGroupsAndProtection(
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
