/** RDS contain phase: the VPC's isolation groups, then the database's groups swapped for them. */
import { RemoteError } from '../../src/core/errors.js';
import { runIsolationGroupStep } from '../../src/aws/isolation-group.js';
import type { JsonObject } from '../../src/core/types.js';
import { securityGroupApi, setDbGroups } from './client.js';
import { rdsClientsFor } from './context.js';
import { currentGroupsAndProtection } from './run-preserve.js';
import { rdsOutputOf, type RdsOutcome, type RdsStepContext } from './steps.js';

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
