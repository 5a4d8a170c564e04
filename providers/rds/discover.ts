/** Read-only discovery of RDS instances and Aurora clusters; members of a cluster are captured through it. */
import { resolveRegion } from '../../src/aws/config.js';
import { BadInputError, type InputProblem } from '../../src/core/errors.js';
import type { JsonObject, ProviderContext } from '../../src/core/types.js';
import { describeDbCluster, describeDbInstance, subnetGroupVpc } from './client.js';
import { rdsClientsFor } from './context.js';
import type { DbFacts, RdsFacts, RdsParams } from './facts.js';

/** Pending changes as plain data (empty object when none). */
function pending(values: object | undefined): JsonObject {
  return Object.fromEntries(
    Object.entries(values ?? {}).filter(([, v]) => v !== undefined && v !== null),
  ) as JsonObject;
}

export async function discoverRds(params: RdsParams, ctx: ProviderContext): Promise<RdsFacts> {
  const c = rdsClientsFor(ctx);
  const problems: InputProblem[] = [];
  const region = resolveRegion(ctx.kase.region, ctx.env);
  const notes: string[] = [];
  const clusterIds = new Set(params.dbClusters);
  const databases: DbFacts[] = [];
  for (const [i, id] of params.dbInstances.entries()) {
    const db = await describeDbInstance(c, id);
    if (!db) {
      problems.push({
        field: `targets.rds.dbInstances[${i}]`,
        message: `${id}: no such DB instance in ${region}`,
        continues: true,
      });
      continue;
    }
    if (db.DBClusterIdentifier) {
      notes.push(
        `${id} belongs to Aurora cluster ${db.DBClusterIdentifier}: captured through the cluster (cluster snapshot, deletion protection and groups are set on the cluster)`,
      );
      clusterIds.add(db.DBClusterIdentifier);
      continue;
    }
    databases.push({
      kind: 'instance',
      id,
      arn: db.DBInstanceArn ?? '',
      engine: db.Engine ?? '',
      status: db.DBInstanceStatus ?? '',
      vpcId: db.DBSubnetGroup?.VpcId ?? '',
      securityGroups: (db.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).sort(),
      deletionProtection: Boolean(db.DeletionProtection),
      pendingModifiedValues: pending(db.PendingModifiedValues),
      kmsKeyId: db.KmsKeyId ?? null,
      endpoint: db.Endpoint?.Address ?? null,
      port: db.Endpoint?.Port ?? null,
      members: [],
    });
  }
  for (const id of [...clusterIds].sort()) {
    const cl = await describeDbCluster(c, id);
    if (!cl) {
      const i = params.dbClusters.indexOf(id);
      problems.push({
        field: i < 0 ? 'targets.rds.dbClusters' : `targets.rds.dbClusters[${i}]`,
        message: `${id}: no such DB cluster in ${region}`,
        continues: true,
      });
      continue;
    }
    const vpcId = cl.DBSubnetGroup ? ((await subnetGroupVpc(c, cl.DBSubnetGroup)) ?? '') : '';
    databases.push({
      kind: 'cluster',
      id,
      arn: cl.DBClusterArn ?? '',
      engine: cl.Engine ?? '',
      status: cl.Status ?? '',
      vpcId,
      securityGroups: (cl.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).sort(),
      deletionProtection: Boolean(cl.DeletionProtection),
      pendingModifiedValues: pending(cl.PendingModifiedValues),
      kmsKeyId: cl.KmsKeyId ?? null,
      endpoint: cl.Endpoint ?? null,
      port: cl.Port ?? null,
      members: (cl.DBClusterMembers ?? []).map((m) => m.DBInstanceIdentifier!).sort(),
    });
  }
  for (const db of databases)
    if (!db.vpcId)
      notes.push(`${db.id} is not in a VPC that holdfast can see: it is preserved and snapshotted but not isolated`);
  if (problems.length) throw new BadInputError(problems);
  return { params, region: resolveRegion(ctx.kase.region, ctx.env), databases, notes };
}
