/**
 * Credential containment against moto's IAM over HTTP with the real SDK. moto stores policies,
 * attachments and keys but enforces nothing: these tests check documents, conditions and state,
 * not the deny's effect.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListPoliciesCommand,
  PutRolePolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, inject, it } from 'vitest';
import { executePlan, planCapture, releaseContainment } from '../../src/index.js';
import { createEc2Clients } from '../../providers/ec2/client.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { createIamClients } from '../../providers/iam/client.js';
import { iamProvider } from '../../providers/iam/index.js';
import type { Provider } from '../../src/core/types.js';
import { userAgent } from '../../src/core/tool-info.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { recordCommands } from '../support/policy.js';

const providers = [ec2Provider, iamProvider] as unknown as Provider[];
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const config = () => ({
  region: 'us-east-1',
  endpoint: inject('motoEndpoint'),
  maxAttempts: 1,
  credentials: creds,
  customUserAgent: userAgent(),
  requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
});
/** The test's own hands on IAM and EC2 (set-up and "by hand" changes; unguarded on purpose). */
const iam = () => new IAMClient(config());
const suffix = () => Math.random().toString(16).slice(2, 8);

const TRUST_EC2 = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** A role with a managed and an inline policy, in an instance profile; two instances launched with it. */
async function roleWithInstances(s: string) {
  const raw = iam();
  const role = (
    await raw.send(new CreateRoleCommand({ RoleName: `web-${s}`, AssumeRolePolicyDocument: JSON.stringify(TRUST_EC2) }))
  ).Role!;
  const managed = (
    await raw.send(
      new CreatePolicyCommand({
        PolicyName: `read-${s}`,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
        }),
      }),
    )
  ).Policy!;
  await raw.send(new AttachRolePolicyCommand({ RoleName: role.RoleName!, PolicyArn: managed.Arn! }));
  await raw.send(
    new PutRolePolicyCommand({
      RoleName: role.RoleName!,
      PolicyName: 'inline-sqs',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }],
      }),
    }),
  );
  const profile = (await raw.send(new CreateInstanceProfileCommand({ InstanceProfileName: `web-${s}` })))
    .InstanceProfile!;
  await raw.send(
    new AddRoleToInstanceProfileCommand({
      InstanceProfileName: profile.InstanceProfileName!,
      RoleName: role.RoleName!,
    }),
  );
  const ec2 = new EC2Client(config());
  const image = (await ec2.send(new DescribeImagesCommand({ MaxResults: 5 }))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  const launch = async () =>
    (
      await ec2.send(
        new RunInstancesCommand({
          ImageId: image,
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          IamInstanceProfile: { Arn: profile.Arn! },
        }),
      )
    ).Instances![0]!.InstanceId!;
  return { role, managed, profile, suspect: await launch(), neighbour: await launch() };
}

/** Attached policy ARNs of a role, as IAM has them now. */
const attached = async (roleName: string) =>
  ((await iam().send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))).AttachedPolicies ?? []).map(
    (p) => p.PolicyArn!,
  );
const holdfastPolicies = async () =>
  ((await iam().send(new ListPoliciesCommand({ PathPrefix: '/holdfast/', MaxItems: 1000 }))).Policies ?? []).map(
    (p) => p.Arn!,
  );
const keyStatuses = async (user: string) =>
  Object.fromEntries(
    ((await iam().send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => [
      k.AccessKeyId!,
      k.Status!,
    ]),
  );

function injected() {
  const iamClients = createIamClients(config());
  const ec2Clients = createEc2Clients(config());
  const sent = new Set<string>();
  recordCommands(iamClients.iam as never, 'iam', sent);
  recordCommands(iamClients.release as never, 'iam', sent);
  return { clients: { iam: iamClients, ec2: ec2Clients }, sent };
}

describe('iam provider: role sessions of an instance profile', () => {
  it('records the role, attaches a deny-older-sessions policy once, names the blast radius, and release detaches it', async () => {
    const s = suffix();
    const seeded = await roleWithInstances(s);
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-iam-'));
    const incident = testIncident('IAMR');
    const { clients, sent } = injected();
    const input = {
      incident,
      forensicAccess: false,
      store: join(dir, 'es'),
      targets: { ec2: { instances: [seeded.suspect] } },
    };
    const plan = await planCapture(input, { providers, env, clients });
    const revoke = plan.steps.find((st) => st.id === `iam:revoke-sessions/role/${seeded.role.RoleName}`)!;
    expect(revoke, 'severity high implies revocation for an instance with a profile').toBeDefined();
    expect(revoke.phase).toBe('contain');
    expect(revoke.title).toContain(seeded.neighbour);
    expect(revoke.dependsOn).toContain(`iam:record/role/${seeded.role.RoleName}`);

    const started = new Date();
    const outcome = await executePlan(plan, { providers, env, clients, stateDir: dir });
    const finished = new Date();
    expect(outcome.failures).toEqual([]);
    expect(outcome.status).toBe('complete');

    // Evidence first: the role as it was, hashed in the store.
    const record = outcome.artifacts.find((a) => a.type === 'iam-role')!;
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);
    const stored = JSON.parse(readFileSync(join(dir, 'es', String(record.location.key)), 'utf8'));
    expect(stored.trustPolicy).toEqual(TRUST_EC2);
    expect(stored.attachedPolicies).toEqual([
      expect.objectContaining({
        arn: seeded.managed.Arn,
        document: expect.objectContaining({ Version: '2012-10-17' }),
      }),
    ]);
    expect(stored.inlinePolicies).toEqual([expect.objectContaining({ name: 'inline-sqs' })]);
    expect(stored.instanceProfiles.map((p: { arn: string }) => p.arn)).toEqual([seeded.profile.Arn]);
    expect(stored.blastRadius.instances).toEqual([seeded.neighbour]);

    // The revocation: holdfast's policy, attached, with a condition time inside the capture.
    const change = outcome.changes.find((c) => c.attribute === 'revocationPolicy')!;
    const policyArn = (change.after as { policyArn: string }).policyArn;
    expect(policyArn).toMatch(new RegExp(`:policy/holdfast/holdfast-revoke-${incident}-web-${s}$`));
    expect(await attached(seeded.role.RoleName!)).toContain(policyArn);
    const policy = (await iam().send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy!;
    const version = (
      await iam().send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy.DefaultVersionId! }))
    ).PolicyVersion!;
    const document = JSON.parse(decodeURIComponent(version.Document!));
    expect(document.Statement).toHaveLength(1);
    const statement = document.Statement[0];
    expect(statement).toMatchObject({ Effect: 'Deny', Action: '*', Resource: '*' });
    const notBefore = new Date(statement.Condition.DateLessThan['aws:TokenIssueTime']);
    expect(notBefore.getTime()).toBeGreaterThanOrEqual(Math.floor(started.getTime() / 1000) * 1000);
    expect(notBefore.getTime()).toBeLessThanOrEqual(Math.ceil(finished.getTime() / 1000) * 1000);
    // The evidence step finished before the policy was created.
    expect(new Date(record.acquiredAt).getTime()).toBeLessThanOrEqual(notBefore.getTime());

    // Re-run: nothing new is created or attached twice.
    const before = await holdfastPolicies();
    const again = await executePlan(await planCapture(input, { providers, env, clients }), {
      providers,
      env,
      clients,
      stateDir: dir,
    });
    expect(again.failures).toEqual([]);
    expect(await holdfastPolicies()).toEqual(before);
    expect((await attached(seeded.role.RoleName!)).filter((a) => a === policyArn)).toHaveLength(1);
    expect(again.changes.filter((c) => c.attribute === 'revocationPolicy')).toHaveLength(1);

    // By default release restores service only: the revocation stays attached, and the release says so.
    const service = await releaseContainment({ incident, providers, env, clients, stateDir: dir });
    expect(service.failed).toEqual([]);
    expect(service.restored.map((c) => c.attribute)).not.toContain('revocationPolicy');
    expect(service.notes.map((n) => n.note).join('\n')).toContain(
      `role ${seeded.role.RoleName}'s sessions: credential containment stays in force`,
    );
    expect(await attached(seeded.role.RoleName!)).toContain(policyArn);

    const released = await releaseContainment({
      incident,
      providers,
      env,
      clients,
      stateDir: dir,
      restoreCredentials: true,
    });
    expect(released.failed).toEqual([]);
    expect(released.restored.map((c) => c.attribute)).toContain('revocationPolicy');
    expect(await attached(seeded.role.RoleName!)).not.toContain(policyArn);
    expect(await attached(seeded.role.RoleName!)).toContain(seeded.managed.Arn);
    // Nothing deleted: the policy stays, tagged, as a record.
    expect(await holdfastPolicies()).toContain(policyArn);
    expect([...sent].filter((a) => /:(Delete|Remove|Put)/.test(a))).toEqual([]);
    expect([...sent].filter((a) => /Detach/.test(a))).toEqual(['iam:DetachRolePolicy']);
  });

  it('at medium severity an instance profile is named, not revoked, unless --revoke-role-sessions', async () => {
    const s = suffix();
    const seeded = await roleWithInstances(s);
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-iam-'));
    const { clients } = injected();
    const base = { incident: testIncident('IAMM'), severity: 'medium', forensicAccess: false, store: join(dir, 'es') };
    const plain = await planCapture(
      { ...base, targets: { ec2: { instances: [seeded.suspect] } } },
      { providers, env, clients },
    );
    expect(plain.steps.filter((st) => st.provider === 'iam')).toEqual([]);
    expect(plain.limitations.join('\n')).toMatch(/not revoked at severity medium; add --revoke-role-sessions/);
    const asked = await planCapture(
      { ...base, targets: { ec2: { instances: [seeded.suspect] }, iam: { revokeRoleSessions: true } } },
      { providers, env, clients },
    );
    expect(asked.steps.map((st) => st.id)).toContain(`iam:revoke-sessions/role/web-${s}`);
  });
});

describe("iam provider: a user's access keys", () => {
  it('deactivates only the active key, never records a secret, and release reactivates only it', async () => {
    const s = suffix();
    const raw = iam();
    const user = `ci-${s}`;
    await raw.send(new CreateUserCommand({ UserName: user }));
    const active = (await raw.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
    const inactive = (await raw.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
    await raw.send(
      new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: inactive.AccessKeyId!, Status: 'Inactive' }),
    );
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-iamu-'));
    const incident = testIncident('IAMU');
    const { clients, sent } = injected();
    const plan = await planCapture(
      { incident, store: join(dir, 'es'), targets: { iam: { users: [user] } } },
      { providers, env, clients },
    );
    const outcome = await executePlan(plan, { providers, env, clients, stateDir: dir });
    expect(outcome.failures).toEqual([]);
    expect(await keyStatuses(user)).toEqual({ [active.AccessKeyId!]: 'Inactive', [inactive.AccessKeyId!]: 'Inactive' });
    const changes = outcome.changes.filter((c) => c.attribute === 'accessKeyStatus');
    expect(changes.map((c) => c.resource)).toEqual([`user/${user}/access-key/${active.AccessKeyId}`]);
    const record = outcome.artifacts.find((a) => a.type === 'iam-user')!;
    const stored = readFileSync(join(dir, 'es', String(record.location.key)), 'utf8');
    expect(
      JSON.parse(stored)
        .accessKeys.map((k: { id: string; status: string }) => [k.id, k.status])
        .sort(),
    ).toEqual(
      [
        [active.AccessKeyId, 'Active'],
        [inactive.AccessKeyId, 'Inactive'],
      ].sort(),
    );
    const journal = readFileSync(outcome.journalPath!, 'utf8');
    for (const secret of [active.SecretAccessKey!, inactive.SecretAccessKey!]) {
      expect(stored).not.toContain(secret);
      expect(journal).not.toContain(secret);
    }

    const service = await releaseContainment({ incident, providers, env, clients, stateDir: dir });
    expect(service.restored).toEqual([]);
    expect(await keyStatuses(user)).toEqual({ [active.AccessKeyId!]: 'Inactive', [inactive.AccessKeyId!]: 'Inactive' });
    const released = await releaseContainment({
      incident,
      providers,
      env,
      clients,
      stateDir: dir,
      restoreCredentials: true,
    });
    expect(released.failed).toEqual([]);
    expect(await keyStatuses(user)).toEqual({ [active.AccessKeyId!]: 'Active', [inactive.AccessKeyId!]: 'Inactive' });
    expect([...sent].filter((a) => /:(Delete|Remove|Detach|Put)/.test(a))).toEqual([]);
  });
});

describe('iam provider: release of a revocation changed by hand', () => {
  it('leaves the policy attached and names it', async () => {
    const s = suffix();
    const raw = iam();
    const role = `ops-${s}`;
    await raw.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: JSON.stringify(TRUST_EC2) }));
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-iamh-'));
    const incident = testIncident('IAMH');
    const { clients } = injected();
    const plan = await planCapture(
      { incident, store: join(dir, 'es'), targets: { iam: { roles: [role] } } },
      { providers, env, clients },
    );
    const outcome = await executePlan(plan, { providers, env, clients, stateDir: dir });
    expect(outcome.failures).toEqual([]);
    const policyArn = (outcome.changes.find((c) => c.attribute === 'revocationPolicy')!.after as { policyArn: string })
      .policyArn;
    // A responder moves the revocation time forward by hand.
    await raw.send(
      new CreatePolicyVersionCommand({
        PolicyArn: policyArn,
        SetAsDefault: true,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Action: '*',
              Resource: '*',
              Condition: { DateLessThan: { 'aws:TokenIssueTime': '2099-01-01T00:00:00Z' } },
            },
          ],
        }),
      }),
    );
    const released = await releaseContainment({
      incident,
      providers,
      env,
      clients,
      stateDir: dir,
      restoreCredentials: true,
    });
    expect(released.restored).toEqual([]);
    expect(released.notes.map((n) => n.note).join('\n')).toMatch(
      new RegExp(
        `role ${role}: revocation policy .*holdfast-revoke-${incident}-${role} was changed since capture.*left attached`,
      ),
    );
    expect(await attached(role)).toContain(policyArn);
  });
});

describe('iam provider: dry run', () => {
  it('changes nothing in IAM and says the simulation is not checkable where it is not', async () => {
    const s = suffix();
    const seeded = await roleWithInstances(s);
    const raw = iam();
    const user = `dry-${s}`;
    await raw.send(new CreateUserCommand({ UserName: user }));
    await raw.send(new CreateAccessKeyCommand({ UserName: user }));
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-iamd-'));
    const { clients } = injected();
    const plan = await planCapture(
      {
        incident: testIncident('IAMD'),
        forensicAccess: false,
        store: join(dir, 'es'),
        targets: { ec2: { instances: [seeded.suspect] }, iam: { users: [user] } },
      },
      { providers, env, clients },
    );
    const state = async () => ({
      attached: await attached(seeded.role.RoleName!),
      policies: await holdfastPolicies(),
      keys: await keyStatuses(user),
    });
    const before = await state();
    const outcome = await executePlan(plan, { providers, env, clients, stateDir: dir, dryRun: true });
    expect(await state()).toEqual(before);
    expect(outcome.status).toBe('planned');
    const checks = outcome.preflight!.filter((r) => r.stepId.startsWith('iam:')).flatMap((r) => r.checks);
    expect(checks.find((c) => c.action === 'iam:AttachRolePolicy')).toMatchObject({
      allowed: 'unknown',
      detail: expect.stringMatching(/^not checkable: /),
      policyFile: 'policies/aws/iam.json',
    });
    expect(checks.find((c) => c.action === 'iam:UpdateAccessKey')?.detail).toMatch(/^not checkable: /);
    expect(checks.find((c) => c.action === 'iam:GetRole')).toMatchObject({ allowed: true });
  });
});

describe('iam provider: dry run where IAM can simulate (moto cannot: the answer is injected)', () => {
  it('a change the caller may not make fails the dry run, naming the action and the policy file', async () => {
    const s = suffix();
    const raw = iam();
    const role = `sim-${s}`;
    await raw.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: JSON.stringify(TRUST_EC2) }));
    await raw.send(new CreateUserCommand({ UserName: `responder-${s}` }));
    const key = (await raw.send(new CreateAccessKeyCommand({ UserName: `responder-${s}` }))).AccessKey!;
    const iamClients = createIamClients({
      ...config(),
      credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! },
    });
    const asked: Record<string, unknown>[] = [];
    iamClients.iam.middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: { input: Record<string, unknown> }) => {
          if (context.commandName !== 'SimulatePrincipalPolicyCommand') return next(args);
          asked.push(args.input);
          const names = args.input.ActionNames as string[];
          return {
            output: {
              EvaluationResults: names.map((n) => ({
                EvalActionName: n,
                EvalDecision: n === 'iam:AttachRolePolicy' ? 'implicitDeny' : 'allowed',
              })),
              $metadata: {},
            },
          };
        }) as never,
      { step: 'initialize', name: 'answerSimulation' } as never,
    );
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-iams-'));
    const clients = { iam: iamClients };
    const plan = await planCapture(
      { incident: testIncident('IAMS'), store: join(dir, 'es'), targets: { iam: { roles: [role] } } },
      { providers, env, clients },
    );
    const outcome = await executePlan(plan, { providers, env, clients, stateDir: dir, dryRun: true });
    expect(outcome.status).toBe('failed');
    // The caller is simulated as the IAM user its keys belong to, with the policy ARN as request context.
    expect(asked[1]).toMatchObject({
      PolicySourceArn: `arn:aws:iam::123456789012:user/responder-${s}`,
      ActionNames: ['iam:AttachRolePolicy'],
      ContextEntries: [expect.objectContaining({ ContextKeyName: 'iam:PolicyARN' })],
    });
    const checks = outcome.preflight!.flatMap((r) => r.checks);
    expect(checks.filter((c) => c.allowed === false)).toEqual([
      expect.objectContaining({
        action: 'iam:AttachRolePolicy',
        policyFile: 'policies/aws/iam.json',
        detail: expect.stringContaining('implicitDeny'),
      }),
    ]);
    expect(checks.find((c) => c.action === 'iam:CreatePolicy')).toMatchObject({ allowed: true });
    expect(await attached(role)).toEqual([]);
  });
});
