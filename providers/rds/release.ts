/** RDS release: put the database's security groups back when they are still as holdfast left them. */
import { InternalError } from '../../src/core/errors.js';
import { releaseGroups } from '../../src/aws/isolation-group.js';
import type { ChangeRecord, ReleaseContext } from '../../src/core/types.js';
import { describeDbCluster, describeDbInstance, securityGroupApi, setDbGroups } from './client.js';
import { rdsClientsFor } from './context.js';

export async function releaseRds(
  change: ChangeRecord,
  ctx: ReleaseContext,
): Promise<{ restored: boolean; note?: string }> {
  if (change.attribute === 'vpcSecurityGroups') {
    const [kind, id] = change.resource.split(':') as ['instance' | 'cluster', string];
    const c = rdsClientsFor(ctx);
    const before = change.before as string[];
    const db = kind === 'instance' ? await describeDbInstance(c, id) : await describeDbCluster(c, id);
    return releaseGroups(securityGroupApi(c), {
      incident: ctx.incident,
      name: id,
      current: db?.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId!) ?? (db ? [] : undefined),
      before,
      restore: () => setDbGroups(c, kind, id, before),
    });
  }
  if (
    change.attribute === 'deletionProtection' ||
    change.attribute === 'tags' ||
    change.attribute === 'pendingModifiedValues'
  ) {
    // Turning deletion protection off is refused by the guard: release leaves it on.
    return { restored: false, note: `${change.attribute} of ${change.resource} stays` };
  }
  throw new InternalError(`rds cannot release ${change.attribute}`);
}
