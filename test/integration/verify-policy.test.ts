/**
 * Every call an examiner's `evidence verify` sends is granted by policies/aws/verify.json, and
 * nothing more: a real capture (library) into an Object Lock bucket with a locked EBS snapshot whose
 * image was hashed (--hash-snapshots), an RDS snapshot and an Aurora cluster snapshot; then verify
 * online with --hash-snapshots and a custody entry, through clients that record what they send.
 * The capture's own EBS direct API calls are checked against policies/aws/ec2.json here too (only
 * a StartSnapshot-made snapshot can be read in moto, so ec2-policy.test.ts cannot send them).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import { CreateDBClusterCommand, CreateDBInstanceCommand, CreateDBSubnetGroupCommand } from '@aws-sdk/client-rds';
import { describe, expect, inject, it } from 'vitest';
import { executePlan, planCapture, verifyEvidence } from '../../src/index.js';
import { heldEvidenceChecker } from '../../src/engine/held-evidence.js';
import { appendCustody } from '../../src/evidence/custody.js';
import { createEc2Clients } from '../../providers/ec2/client.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { createRdsClients } from '../../providers/rds/client.js';
import { rdsProvider } from '../../providers/rds/index.js';
import { createS3Client } from '../../providers/s3-store/client.js';
import { createS3Store } from '../../providers/s3-store/index.js';
import type { Provider } from '../../src/core/types.js';
import { clientDefaults, createTestBucket, motoEnv, testIncident } from '../support/aws.js';
import { instanceWithKnownSnapshot } from '../support/ebs.js';
import { DESTRUCTIVE_ACTION, grantedActions, policyAllows, readPolicy, recordCommands } from '../support/policy.js';

/**
 * S3 returns an object's retention and legal hold in HeadObject only to callers granted these:
 * verify reads them there (the lock check), so they are needed though no call bears their name.
 */
const IMPLIED = ['s3:GetObjectRetention', 's3:GetObjectLegalHold'];
const LOCK_UNTIL = new Date('2031-01-01T00:00:00Z');

const awsConfig = () => ({
  ...clientDefaults(),
  region: 'us-east-1',
  endpoint: inject('motoEndpoint'),
  maxAttempts: 1,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

/** moto has no LockSnapshot/DescribeLockedSnapshots: answer them as EC2 does for a compliance lock. */
function answerSnapshotLocks(client: { middlewareStack: { add: (mw: never, opts: never) => void } }) {
  client.middlewareStack.add(
    ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: { SnapshotId?: string; SnapshotIds?: string[] } }) => {
        if (context.commandName === 'LockSnapshotCommand')
          return {
            output: {
              SnapshotId: args.input.SnapshotId,
              LockState: 'compliance-cooloff',
              LockExpiresOn: LOCK_UNTIL,
              $metadata: {},
            },
          };
        if (context.commandName === 'DescribeLockedSnapshotsCommand')
          return {
            output: {
              Snapshots: (args.input.SnapshotIds ?? []).map((SnapshotId) => ({
                SnapshotId,
                LockState: 'compliance',
                LockExpiresOn: LOCK_UNTIL,
              })),
              $metadata: {},
            },
          };
        return next(args);
      }) as never,
    { step: 'initialize', name: 'answerSnapshotLocks' } as never,
  );
}

/** `s3:Action` per S3 call, as IAM authorizes it (a read of a version needs …Version as well). */
function recordS3(
  client: { middlewareStack: { add: (mw: never, opts: never) => void } },
  into: Set<string>,
  puts: string[],
) {
  const action: Record<string, string> = {
    ListObjectsV2Command: 's3:ListBucket',
    HeadBucketCommand: 's3:ListBucket',
    GetObjectLockConfigurationCommand: 's3:GetBucketObjectLockConfiguration',
    HeadObjectCommand: 's3:GetObject',
    GetObjectCommand: 's3:GetObject',
    PutObjectCommand: 's3:PutObject',
  };
  client.middlewareStack.add(
    ((next: (a: unknown) => unknown, context: { commandName?: string }) =>
      (args: {
        input: { Key?: string; VersionId?: string; ObjectLockMode?: string; ObjectLockLegalHoldStatus?: string };
      }) => {
        const name = context.commandName ?? '';
        into.add(action[name] ?? `s3:${name.replace(/Command$/, '')}`);
        if (args.input.VersionId && /^(Get|Head)Object/.test(name)) into.add('s3:GetObjectVersion');
        // Object Lock headers on a PutObject are authorized as their own actions.
        if (args.input.ObjectLockMode) into.add('s3:PutObjectRetention');
        if (args.input.ObjectLockLegalHoldStatus) into.add('s3:PutObjectLegalHold');
        if (/^Put/.test(name)) puts.push(args.input.Key ?? '');
        return next(args);
      }) as never,
    { step: 'initialize', name: 'record-s3-actions' } as never,
  );
}

describe('policies/aws/verify.json', () => {
  it("grants every call of an online verify with --hash-snapshots and its custody entry, and nothing unused or destructive; the capture's EBS reads are granted by ec2.json", async () => {
    const incident = testIncident('VPOL');
    const suffix = incident.slice(-8).toLowerCase();
    const env = motoEnv();
    const bucket = await createTestBucket();
    const storeSpec = `s3://${bucket}`;
    const known = await instanceWithKnownSnapshot(inject('motoEndpoint'), incident);
    const rdsSetUp = createRdsClients(awsConfig());
    const subnets = (
      await rdsSetUp.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }))
    ).Subnets!.map((n) => n.SubnetId!);
    const DBSubnetGroupName = `vpol-${suffix}`;
    await rdsSetUp.rds.send(
      new CreateDBSubnetGroupCommand({
        DBSubnetGroupName,
        DBSubnetGroupDescription: 'verify policy test',
        SubnetIds: subnets,
      }),
    );
    await rdsSetUp.rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: `vpol-${suffix}`,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'u',
        MasterUserPassword: 'password1234',
        DBSubnetGroupName,
      }),
    );
    await rdsSetUp.rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: `vpolc-${suffix}`,
        Engine: 'aurora-postgresql',
        MasterUsername: 'u',
        MasterUserPassword: 'password1234',
        DBSubnetGroupName,
      }),
    );

    // The capture (a responder's role): its EBS direct API calls must be granted by ec2.json.
    const captureEc2 = createEc2Clients(awsConfig());
    answerSnapshotLocks(captureEc2.ec2 as never);
    const captureSent = new Set<string>();
    recordCommands(captureEc2.ebs as never, 'ebs', captureSent);
    const providers = [ec2Provider, rdsProvider] as unknown as Provider[];
    const dir = mkdtempSync(join(tmpdir(), 'hf-vpol-'));
    const captureClients = { ec2: captureEc2, rds: createRdsClients(awsConfig()) };
    const plan = await planCapture(
      {
        incident,
        store: storeSpec,
        retainDays: 1,
        contain: false,
        targets: {
          ec2: { instances: [known.instanceId], lockSnapshotsDays: 7, hashSnapshots: true },
          rds: { dbInstances: [`vpol-${suffix}`], dbClusters: [`vpolc-${suffix}`] },
        },
      },
      { providers, env, clients: captureClients },
    );
    const outcome = await executePlan(plan, { providers, env, clients: captureClients, stateDir: dir });
    expect(outcome.failures).toEqual([]);
    const snapshot = outcome.artifacts.find((a) => a.type === 'ebs-snapshot')!;
    // Library callers get the hash as the CLI does.
    expect(snapshot.method).toMatchObject({ imageSha256: known.expected, imageWrittenBlocks: 3 });
    expect(snapshot.preservation?.lock).toBeDefined();
    expect(outcome.artifacts.map((a) => a.type)).toEqual(
      expect.arrayContaining(['rds-snapshot', 'rds-cluster-snapshot']),
    );
    const ec2Policy = readPolicy('aws/ec2.json');
    expect([...captureSent].sort()).toEqual(['ebs:GetSnapshotBlock', 'ebs:ListSnapshotBlocks']);
    for (const action of captureSent) expect(policyAllows(ec2Policy, action), action).toBe(true);

    // The examiner's verify, through recording clients.
    const sent = new Set<string>();
    const puts: string[] = [];
    const s3 = createS3Client(awsConfig());
    recordS3(s3 as never, sent, puts);
    const store = createS3Store(
      {
        kind: 's3',
        bucket,
        prefix: '',
        retainDays: 1,
        retentionMode: 'GOVERNANCE',
        legalHold: true, // as a capture with --legal-hold records it: custody entries get the same hold
        allowUnlocked: false,
      },
      awsConfig(),
      s3,
    );
    const ec2 = createEc2Clients(awsConfig());
    recordCommands(ec2.ec2 as never, 'ec2', sent); // before the answer, which ends the middleware chain
    answerSnapshotLocks(ec2.ec2 as never);
    recordCommands(ec2.ebs as never, 'ebs', sent);
    const rds = createRdsClients(awsConfig());
    recordCommands(rds.rds as never, 'rds', sent);
    const report = await verifyEvidence(store, incident, {
      checkHeld: heldEvidenceChecker(store, incident, { env, clients: { ec2, rds }, hashSnapshots: true }),
    });
    expect(report.items.filter((i) => i.status !== 'ok')).toEqual([]);
    expect(report.items.find((i) => i.id === snapshot.id)?.detail).toContain(`image sha256 ${known.expected}`);
    expect(report.items.find((i) => i.id === snapshot.id)?.detail).toContain('still locked');
    const custody = await appendCustody(store, incident, 'verify', { ok: report.ok });
    expect(custody.error).toBeUndefined();

    const policy = readPolicy('aws/verify.json');
    for (const action of sent) expect(policyAllows(policy, action), `${action} must be granted`).toBe(true);
    const used = [...sent, ...IMPLIED];
    expect(
      grantedActions(policy).filter((a) => !used.includes(a)),
      'granted but never sent',
    ).toEqual([]);
    // Its one write is its own custody entry (the policy grants PutObject only under */custody/*).
    expect(puts.length).toBeGreaterThan(0);
    for (const key of puts) expect(key).toMatch(new RegExp(`^${incident}/custody/`));
    for (const statement of policy.Statement.filter((st) => st.Effect === 'Allow'))
      if ([statement.Action].flat().some((a) => /^s3:Put/.test(a)))
        expect(statement.Resource).toBe('arn:aws:s3:::EVIDENCE_BUCKET/*/custody/*');
    expect(grantedActions(policy).filter((a) => DESTRUCTIVE_ACTION.test(a))).toEqual([]);
    for (const a of [
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:BypassGovernanceRetention',
      'ec2:DeleteSnapshot',
      'ec2:CreateSnapshots',
      'rds:DeleteDBSnapshot',
    ])
      expect(policyAllows(policy, a), a).toBe(false);
  });
});
