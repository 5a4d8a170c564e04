/** Issue 4's RDS scenario through the CLI against moto: an instance and an Aurora cluster. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateDBSubnetGroupCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';

/** Manual snapshots only: moto also makes an automated one ("rds:…") when an instance is created. */
const manual = <T extends { SnapshotType?: string | undefined }>(list: T[] | undefined) =>
  (list ?? []).filter((s) => s.SnapshotType !== 'automated');
const common = () => ({
  endpoint: inject('motoEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
let rds: RDSClient;
let ec2: EC2Client;
let suffix: string;
let appGroup: string;
let cwd: string;
let incident: string;

beforeAll(async () => {
  rds = new RDSClient(common());
  ec2 = new EC2Client(common());
  suffix = Math.random().toString(16).slice(2, 8);
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!;
  const a = (
    await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.50.1.0/24', AvailabilityZone: 'us-east-1a' }))
  ).Subnet!.SubnetId!;
  const b = (
    await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.50.2.0/24', AvailabilityZone: 'us-east-1b' }))
  ).Subnet!.SubnetId!;
  appGroup = (
    await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: `app-db-${suffix}`, Description: 'db' }))
  ).GroupId!;
  await rds.send(
    new CreateDBSubnetGroupCommand({
      DBSubnetGroupName: `sn-${suffix}`,
      DBSubnetGroupDescription: 't',
      SubnetIds: [a, b],
    }),
  );
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: `orders-${suffix}`,
      Engine: 'postgres',
      DBInstanceClass: 'db.t3.micro',
      AllocatedStorage: 20,
      MasterUsername: 'u',
      MasterUserPassword: 'password1234',
      DBSubnetGroupName: `sn-${suffix}`,
      VpcSecurityGroupIds: [appGroup],
    }),
  );
  await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: `ledger-${suffix}`,
      Engine: 'aurora-postgresql',
      MasterUsername: 'u',
      MasterUserPassword: 'password1234',
      DBSubnetGroupName: `sn-${suffix}`,
      VpcSecurityGroupIds: [appGroup],
    }),
  );
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: `ledger-${suffix}-1`,
      DBClusterIdentifier: `ledger-${suffix}`,
      Engine: 'aurora-postgresql',
      DBInstanceClass: 'db.r6g.large',
      DBSubnetGroupName: `sn-${suffix}`,
    }),
  );
  cwd = mkdtempSync(join(tmpdir(), 'hf-rds-'));
  incident = testIncident('RDS');
});

const args = () => [
  'capture',
  '--incident',
  incident,
  '--db-instance',
  `orders-${suffix}`,
  '--db-instance',
  `ledger-${suffix}-1`,
  '--forensic-cidr',
  '198.51.100.20/32',
  '--store',
  'es',
  '--json',
];

describe('RDS capture through the CLI (moto)', () => {
  it('protects, snapshots (tagged, valid ids) and isolates an instance and an Aurora cluster', async () => {
    const res = await runCli(args(), { cwd, env: motoEnv() });
    expect(res.stderr).toContain('capture complete');
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      `ledger-${suffix}-1 belongs to Aurora cluster ledger-${suffix}: captured through the cluster`,
    );

    const db = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: `orders-${suffix}` })))
      .DBInstances![0]!;
    const cl = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: `ledger-${suffix}` })))
      .DBClusters![0]!;
    expect(db.DeletionProtection).toBe(true);
    expect(cl.DeletionProtection).toBe(true);
    const iso = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'tag:holdfast:incident', Values: [incident] },
            { Name: 'tag:holdfast:role', Values: ['isolation'] },
          ],
        }),
      )
    ).SecurityGroups!;
    expect(iso).toHaveLength(1);
    expect(db.VpcSecurityGroups!.map((g) => g.VpcSecurityGroupId)).toEqual([iso[0]!.GroupId]);
    expect(cl.VpcSecurityGroups!.map((g) => g.VpcSecurityGroupId)).toEqual([iso[0]!.GroupId]);

    const snap = manual(
      (await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: `orders-${suffix}` }))).DBSnapshots,
    );
    expect(snap.map((s) => s.DBSnapshotIdentifier)).toEqual([`hf-${incident.toLowerCase()}-db-orders-${suffix}`]);
    expect(snap[0]!.TagList).toEqual(expect.arrayContaining([{ Key: 'holdfast:incident', Value: incident }]));
    const csnap = manual(
      (await rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: `ledger-${suffix}` })))
        .DBClusterSnapshots,
    );
    expect(csnap).toHaveLength(1);
    expect(csnap[0]!.DBClusterSnapshotIdentifier!.length).toBeLessThanOrEqual(63);
  });

  it('a re-run (even from another machine) creates nothing new', async () => {
    const res = await runCli([...args(), '--state-dir', 'elsewhere'], { cwd, env: motoEnv() });
    expect(res.code).toBe(0);
    expect(
      manual(
        (await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: `orders-${suffix}` }))).DBSnapshots,
      ),
    ).toHaveLength(1);
    expect(
      manual(
        (await rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: `ledger-${suffix}` })))
          .DBClusterSnapshots,
      ),
    ).toHaveLength(1);
    const groups = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] }),
      )
    ).SecurityGroups!;
    expect(groups).toHaveLength(2);
  });

  it('release restores the original groups; deletion protection stays on', async () => {
    const res = await runCli(['release', '--incident', incident, '--approve'], { cwd, env: motoEnv() });
    expect(res.code).toBe(0);
    const db = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: `orders-${suffix}` })))
      .DBInstances![0]!;
    const cl = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: `ledger-${suffix}` })))
      .DBClusters![0]!;
    expect(db.VpcSecurityGroups!.map((g) => g.VpcSecurityGroupId)).toEqual([appGroup]);
    expect(cl.VpcSecurityGroups!.map((g) => g.VpcSecurityGroupId)).toEqual([appGroup]);
    expect(db.DeletionProtection).toBe(true);
  });

  it('an unknown DB instance is a clear error before any change', async () => {
    const res = await runCli(
      ['capture', '--incident', testIncident('NODB'), '--db-instance', 'missing-db', '--store', 'es'],
      { cwd, env: motoEnv() },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--db-instance missing-db: no such DB instance');
  });
});
