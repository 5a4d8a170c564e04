/** Every call the IAM provider sends (dry run, capture, release) is granted by policies/aws/iam.json, and nothing more. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  CreateAccessKeyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
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
import { DESTRUCTIVE_ACTION, grantedActions, policyAllows, readPolicy, recordCommands } from '../support/policy.js';

/** Needed by IAM for CreatePolicy with Tags, not sent as a command of its own. */
const IMPLIED = new Set(['iam:TagPolicy']);
const OURS = 'arn:aws:iam::123456789012:policy/holdfast/holdfast-revoke-IR-1-web';

describe('policies/aws/iam.json', () => {
  it('grants exactly what the provider sends and nothing destructive but detaching its own policy', async () => {
    const s = Math.random().toString(16).slice(2, 8);
    const base = {
      region: 'us-east-1',
      endpoint: inject('motoEndpoint'),
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
      customUserAgent: userAgent(),
    };
    const raw = new IAMClient({ ...base, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await raw.send(
      new CreateRoleCommand({
        RoleName: `pol-${s}`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const profile = (await raw.send(new CreateInstanceProfileCommand({ InstanceProfileName: `pol-${s}` })))
      .InstanceProfile!;
    await raw.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: `pol-${s}`, RoleName: `pol-${s}` }));
    const ec2 = new EC2Client({ ...base, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const image = (await ec2.send(new DescribeImagesCommand({ MaxResults: 5 }))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
    const instance = (
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
    await raw.send(
      new PutRolePolicyCommand({
        RoleName: `pol-${s}`,
        PolicyName: 'app',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }],
        }),
      }),
    );
    await raw.send(new CreateUserCommand({ UserName: `suspect-${s}` }));
    await raw.send(
      new PutUserPolicyCommand({
        UserName: `suspect-${s}`,
        PolicyName: 'deploy',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
        }),
      }),
    );
    await raw.send(new CreateAccessKeyCommand({ UserName: `suspect-${s}` }));
    // holdfast runs as an IAM user here, so the dry run's simulation is asked (moto cannot answer it).
    await raw.send(new CreateUserCommand({ UserName: `responder-${s}` }));
    const key = (await raw.send(new CreateAccessKeyCommand({ UserName: `responder-${s}` }))).AccessKey!;
    const iamClients = createIamClients({
      ...base,
      credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! },
    });
    const sent = new Set<string>();
    recordCommands(iamClients.iam as never, 'iam', sent);
    recordCommands(iamClients.release as never, 'iam', sent);
    recordCommands(iamClients.ec2 as never, 'ec2', sent);
    recordCommands(iamClients.sts as never, 'sts', sent);
    const clients = {
      iam: iamClients,
      ec2: createEc2Clients({ ...base, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }),
    };
    const providers = [ec2Provider, iamProvider] as unknown as Provider[];
    const env = motoEnv();
    const dir = mkdtempSync(join(tmpdir(), 'hf-iampol-'));
    const incident = testIncident('IAMPOL');
    const plan = await planCapture(
      {
        incident,
        forensicAccess: false,
        store: join(dir, 'es'),
        targets: { ec2: { instances: [instance] }, iam: { users: [`suspect-${s}`] } },
      },
      { providers, env, clients },
    );
    const dry = await executePlan(plan, { providers, env, clients, stateDir: dir, dryRun: true });
    const simulated = dry.preflight!.flatMap((r) => r.checks).find((c) => c.action === 'iam:AttachRolePolicy');
    expect(simulated?.detail).toMatch(/not checkable: iam:SimulatePrincipalPolicy failed/);
    const outcome = await executePlan(plan, { providers, env, clients, stateDir: dir });
    expect(outcome.failures).toEqual([]);
    const released = await releaseContainment({
      incident,
      providers,
      env,
      clients,
      stateDir: dir,
      restoreCredentials: true,
    });
    expect(released.failed).toEqual([]);

    const policy = readPolicy('aws/iam.json');
    expect(sent).toContain('iam:SimulatePrincipalPolicy');
    expect(sent).toContain('iam:DetachRolePolicy');
    // Attach and detach are granted only for holdfast's own revocation policies (the request's iam:PolicyARN).
    for (const action of sent)
      expect(policyAllows(policy, action, { 'iam:PolicyARN': OURS }), `${action} must be granted`).toBe(true);
    for (const action of ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'])
      expect(policyAllows(policy, action, { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' })).toBe(
        false,
      );
    const unused = grantedActions(policy).filter((a) => !sent.has(a) && !IMPLIED.has(a));
    expect(unused, 'granted but never sent').toEqual([]);
    expect(grantedActions(policy).filter((a) => DESTRUCTIVE_ACTION.test(a))).toEqual(['iam:DetachRolePolicy']);
    for (const a of [
      'iam:DeleteAccessKey',
      'iam:DeleteRole',
      'iam:DeletePolicy',
      'iam:DeleteLoginProfile',
      'iam:RemoveRoleFromInstanceProfile',
      'iam:DetachUserPolicy',
      'iam:PutRolePolicy',
      'iam:PutUserPolicy',
      'iam:UpdateAssumeRolePolicy',
      'iam:CreatePolicyVersion',
    ])
      expect(policyAllows(policy, a, { 'iam:PolicyARN': OURS }), a).toBe(false);
    // Creating policies is granted only under holdfast's path and name.
    const create = policy.Statement.find((st) => [st.Action].flat().includes('iam:CreatePolicy'))!;
    expect(create.Resource).toBe('arn:*:iam::*:policy/holdfast/holdfast-revoke-*');
  });
});
