/** The RDS provider's calls against policies/aws/rds.json; pending modifications; dump-before-isolation ordering. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDBClusterCommand } from '@aws-sdk/client-rds';
import { describe, expect, inject, it } from 'vitest';
import { buildPlan, executePlan, planCapture, releaseContainment } from '../../src/index.js';
import { seedAws } from '../../src/drill/client.js';
import { createRdsClients } from '../../providers/rds/client.js';
import { rdsProvider } from '../../providers/rds/index.js';
import { dumpProvider } from '../../providers/dump/index.js';
import type { Case, Provider } from '../../src/core/types.js';
import { clientDefaults, motoEnv, testIncident } from '../support/aws.js';
import { DESTRUCTIVE_ACTION, grantedActions, policyAllows, readPolicy, recordCommands } from '../support/policy.js';

const providers = [rdsProvider as unknown as Provider];
const clientsFor = () => {
  const env = motoEnv();
  return createRdsClients({
    region: 'us-east-1',
    ...clientDefaults(),
    endpoint: env.AWS_ENDPOINT_URL!,
    maxAttempts: 1,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
};

describe('policies/aws/rds.json', () => {
  it('grants exactly what the provider sends (capture, dry run, release) and nothing destructive', async () => {
    const suffix = Math.random().toString(16).slice(2, 8);
    const seeded = await seedAws(inject('motoEndpoint'), suffix);
    const clients = clientsFor();
    await clients.rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: `pol-${suffix}`,
        Engine: 'aurora-postgresql',
        MasterUsername: 'u',
        MasterUserPassword: 'password1234',
        DBSubnetGroupName: `db-${suffix}`,
      }),
    );
    const sent = new Set<string>();
    recordCommands(clients.rds as never, 'rds', sent);
    recordCommands(clients.ec2 as never, 'ec2', sent);
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-rdspol-'));
    const incident = testIncident('RDSPOL');
    const plan = await planCapture(
      {
        incident,
        forensicAccess: false,
        store: join(dir, 'es'),
        targets: { rds: { dbInstances: [seeded.dbInstance], dbClusters: [`pol-${suffix}`] } },
      },
      { providers, env, clients: { rds: clients } },
    );
    await executePlan(plan, { providers, env, clients: { rds: clients }, stateDir: dir, dryRun: true });
    const outcome = await executePlan(plan, { providers, env, clients: { rds: clients }, stateDir: dir });
    expect(outcome.failures).toEqual([]);
    await releaseContainment({ incident, providers, env, clients: { rds: clients }, stateDir: dir });
    const policy = readPolicy('aws/rds.json');
    for (const action of sent) expect(policyAllows(policy, action), action).toBe(true);
    expect(grantedActions(policy).filter((a) => !sent.has(a))).toEqual([]);
    expect(grantedActions(policy).filter((a) => DESTRUCTIVE_ACTION.test(a))).toEqual([]);
    for (const a of ['rds:DeleteDBInstance', 'rds:StopDBInstance', 'rds:RebootDBInstance', 'rds:DeleteDBSnapshot'])
      expect(policyAllows(policy, a), a).toBe(false);
  });
});

describe('pending modifications (moto never has any: injected into the describe answer)', () => {
  it('isolation waits for --approve-pending, then records and applies them', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const clients = clientsFor();
    clients.rds.middlewareStack.add(
      ((
          next: (a: unknown) => Promise<{ output: { DBInstances?: { PendingModifiedValues?: unknown }[] } }>,
          context: { commandName?: string },
        ) =>
        async (args: unknown) => {
          const result = await next(args);
          if (context.commandName === 'DescribeDBInstancesCommand')
            for (const db of result.output.DBInstances ?? [])
              db.PendingModifiedValues = { DBInstanceClass: 'db.r6g.4xlarge' };
          return result;
        }) as never,
      { step: 'initialize', name: 'pendingChange' } as never,
    );
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-pending-'));
    const incident = testIncident('PEND');
    const input = {
      incident,
      forensicAccess: false,
      store: join(dir, 'es'),
      targets: { rds: { dbInstances: [seeded.dbInstance] } },
    };
    const plan = await planCapture(input, { providers, env, clients: { rds: clients } });
    expect(plan.limitations.join()).toMatch(/pending modifications \(DBInstanceClass\).*--approve-pending/);
    const first = await executePlan(plan, { providers, env, clients: { rds: clients }, stateDir: dir });
    expect(first.status).toBe('partial');
    expect(first.failures[0]!.message).toMatch(/pending modifications \(DBInstanceClass\).*--approve-pending/);
    expect(first.artifacts.some((a) => a.type === 'rds-snapshot')).toBe(true);

    const approved = await planCapture(
      { ...input, targets: { rds: { dbInstances: [seeded.dbInstance], approvePending: true } } },
      { providers, env, clients: { rds: clients } },
    );
    const second = await executePlan(approved, { providers, env, clients: { rds: clients }, stateDir: dir });
    expect(second.status).toBe('complete');
    expect(second.changes).toContainEqual(
      expect.objectContaining({ attribute: 'pendingModifiedValues', before: { DBInstanceClass: 'db.r6g.4xlarge' } }),
    );
  });
});

describe('dump before isolation', () => {
  it('RDS containment waits for the dump of the same endpoint (pure planning)', () => {
    const kase = {
      incident: 'IR-REL-1',
      severity: 'high',
      approveContainment: false,
      contain: true,
      forensicCidrs: [],
      forensicAccess: false,
      store: { kind: 'fs', dir: '/tmp/x' },
      targets: { rds: {}, dump: {} },
    } as Case;
    const endpoint = 'orders.abc.us-east-1.rds.amazonaws.com';
    const facts = new Map<string, unknown>([
      [
        'rds',
        {
          params: { dbInstances: ['orders'], dbClusters: [], approvePending: false },
          region: 'us-east-1',
          notes: [],
          databases: [
            {
              kind: 'instance',
              id: 'orders',
              arn: 'arn',
              engine: 'postgres',
              status: 'available',
              vpcId: 'vpc-1',
              securityGroups: ['sg-1'],
              deletionProtection: false,
              pendingModifiedValues: {},
              kmsKeyId: null,
              endpoint,
              port: 5432,
              members: [],
            },
          ],
        },
      ],
      [
        'dump',
        {
          params: {
            targets: [],
            passwordEnv: null,
            passwordFile: null,
            serializableDeferrable: false,
            lockWaitTimeout: '30s',
          },
          dumps: [
            {
              engine: 'postgres',
              host: endpoint,
              port: 5432,
              user: 'f',
              database: 'orders',
              url: 'postgres://f@x/orders',
              tool: 'pg_dump',
              toolVersion: '15',
              serverVersion: '15',
            },
          ],
        },
      ],
    ]);
    const plan = buildPlan(kase, facts, [rdsProvider as unknown as Provider, dumpProvider as unknown as Provider]);
    const isolate = plan.steps.find((s) => s.id === 'rds:isolate/instance/orders')!;
    expect(isolate.dependsOn).toContain(`dump:dump/postgres/${endpoint}-5432-orders`);
  });
});
