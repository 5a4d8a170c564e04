/**
 * The only file of the RDS provider that imports AWS SDKs: RDS, and EC2 for the shared isolation
 * groups. Clients are guarded and injectable through `ctx.clients.rds`.
 */
import {
  AddTagsToResourceCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBSubnetGroupsCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  type DBCluster,
  type DBInstance,
  type RDSClientConfig,
} from '@aws-sdk/client-rds';
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { ec2SecurityGroupApi } from '../../src/aws/client.js';
import type { AwsClientConfig } from '../../src/aws/config.js';
import { isNotFound } from '../../src/aws/errors.js';
import { guardAwsClient } from '../../src/aws/guard-client.js';
import type { SecurityGroupApi } from '../../src/aws/isolation-group.js';

declare module '../../src/core/types.js' {
  interface Clients {
    /** The RDS provider's bundle, as `createRdsClients` builds it (injected: used as given). */
    rds?: RdsClients;
  }
}

export interface RdsClients {
  rds: RDSClient;
  ec2: EC2Client;
}

export function createRdsClients(config: AwsClientConfig): RdsClients {
  return {
    rds: guardAwsClient(new RDSClient(config as RDSClientConfig)),
    ec2: guardAwsClient(new EC2Client(config as EC2ClientConfig)),
  };
}

export async function describeDbInstance(c: RdsClients, id: string): Promise<DBInstance | undefined> {
  try {
    return (await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function describeDbCluster(c: RdsClients, id: string): Promise<DBCluster | undefined> {
  try {
    return (await c.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))).DBClusters?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The VPC of a DB subnet group (clusters name their group but not its VPC). */
export async function subnetGroupVpc(c: RdsClients, name: string): Promise<string | undefined> {
  return (await c.rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name }))).DBSubnetGroups?.[0]?.VpcId;
}

export async function addTags(c: RdsClients, ResourceName: string, tags: Record<string, string>): Promise<void> {
  await c.rds.send(
    new AddTagsToResourceCommand({ ResourceName, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }),
  );
}

/** Deletion protection alone, without ApplyImmediately, so pending changes stay pending. */
export async function protectFromDeletion(c: RdsClients, kind: 'instance' | 'cluster', id: string): Promise<void> {
  if (kind === 'instance')
    await c.rds.send(
      new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, DeletionProtection: true, ApplyImmediately: false }),
    );
  else
    await c.rds.send(
      new ModifyDBClusterCommand({ DBClusterIdentifier: id, DeletionProtection: true, ApplyImmediately: false }),
    );
}

/** Swap VPC security groups now (ApplyImmediately also applies whatever else is pending). */
export async function setDbGroups(
  c: RdsClients,
  kind: 'instance' | 'cluster',
  id: string,
  groups: string[],
): Promise<void> {
  if (kind === 'instance')
    await c.rds.send(
      new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, VpcSecurityGroupIds: groups, ApplyImmediately: true }),
    );
  else
    await c.rds.send(
      new ModifyDBClusterCommand({ DBClusterIdentifier: id, VpcSecurityGroupIds: groups, ApplyImmediately: true }),
    );
}

export interface DbSnapshotInfo {
  id: string;
  arn?: string;
  status: string;
  createdAt?: string;
  kmsKeyId?: string;
  encrypted: boolean;
  /** The DB instance or cluster it was taken from. */
  source?: string;
  tags?: Record<string, string>;
}

const tagMap = (list: { Key?: string | undefined; Value?: string | undefined }[] | undefined) =>
  list ? { tags: Object.fromEntries(list.map((t) => [t.Key ?? '', t.Value ?? ''])) } : {};

export async function findDbSnapshot(
  c: RdsClients,
  kind: 'instance' | 'cluster',
  snapshotId: string,
): Promise<DbSnapshotInfo | undefined> {
  try {
    if (kind === 'instance') {
      const s = (await c.rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId })))
        .DBSnapshots?.[0];
      return s
        ? {
            id: s.DBSnapshotIdentifier!,
            ...(s.DBSnapshotArn ? { arn: s.DBSnapshotArn } : {}),
            status: s.Status ?? '',
            ...(s.SnapshotCreateTime ? { createdAt: s.SnapshotCreateTime.toISOString() } : {}),
            ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}),
            encrypted: Boolean(s.Encrypted),
            ...(s.DBInstanceIdentifier ? { source: s.DBInstanceIdentifier } : {}),
            ...tagMap(s.TagList),
          }
        : undefined;
    }
    const s = (await c.rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: snapshotId })))
      .DBClusterSnapshots?.[0];
    return s
      ? {
          id: s.DBClusterSnapshotIdentifier!,
          ...(s.DBClusterSnapshotArn ? { arn: s.DBClusterSnapshotArn } : {}),
          status: s.Status ?? '',
          ...(s.SnapshotCreateTime ? { createdAt: s.SnapshotCreateTime.toISOString() } : {}),
          ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}),
          encrypted: Boolean(s.StorageEncrypted),
          ...(s.DBClusterIdentifier ? { source: s.DBClusterIdentifier } : {}),
          ...tagMap(s.TagList),
        }
      : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function createDbSnapshot(
  c: RdsClients,
  kind: 'instance' | 'cluster',
  id: string,
  snapshotId: string,
  tags: Record<string, string>,
): Promise<void> {
  const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  if (kind === 'instance')
    await c.rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: id, DBSnapshotIdentifier: snapshotId, Tags }));
  else
    await c.rds.send(
      new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: id, DBClusterSnapshotIdentifier: snapshotId, Tags }),
    );
}

/** Read-only probes for preflight (RDS has no DryRun). */
export async function readProbe(c: RdsClients, kind: 'instance' | 'cluster', id: string): Promise<void> {
  if (kind === 'instance') await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  else await c.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }));
}

/** Adapt this provider's EC2 client to the shared isolation-group logic (src/aws/isolation-group.ts). */
export function securityGroupApi(c: RdsClients): SecurityGroupApi {
  return ec2SecurityGroupApi(c.ec2);
}
