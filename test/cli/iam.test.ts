/** Credential containment through the CLI against moto's IAM: capture, sitrep, dry run, release. */
import { mkdtempSync, readFileSync } from 'node:fs';
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
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';

let iam: IAMClient;
let user: string;
let role: string;
let active: string;
let inactive: string;

const keyStatuses = async (name: string) =>
  Object.fromEntries(
    ((await iam.send(new ListAccessKeysCommand({ UserName: name }))).AccessKeyMetadata ?? []).map((k) => [
      k.AccessKeyId!,
      k.Status!,
    ]),
  );
const attached = async () =>
  ((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies ?? []).map(
    (p) => p.PolicyArn!,
  );

beforeAll(async () => {
  iam = new IAMClient({
    endpoint: inject('motoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const s = Math.random().toString(16).slice(2, 8);
  user = `deploy-${s}`;
  role = `batch-${s}`;
  await iam.send(new CreateUserCommand({ UserName: user }));
  active = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!.AccessKeyId!;
  inactive = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!.AccessKeyId!;
  await iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: inactive, Status: 'Inactive' }));
  await iam.send(
    new CreateRoleCommand({
      RoleName: role,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
});

describe('IAM containment through the CLI (moto)', () => {
  it('dry run changes nothing; capture revokes and deactivates; the sitrep lists both; release undoes exactly that', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-cli-iam-'));
    const incident = testIncident('CIAM');
    const args = ['capture', '--incident', incident, '--iam-user', user, '--iam-role', role, '--store', 'es'];

    const dry = await runCli([...args, '--dry-run', '--json'], { cwd, env: motoEnv() });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('not checkable');
    expect(await keyStatuses(user)).toEqual({ [active]: 'Active', [inactive]: 'Inactive' });
    expect(await attached()).toEqual([]);

    const res = await runCli([...args, '--json'], { cwd, env: motoEnv() });
    expect(res.stderr).toContain('capture complete');
    expect(res.code).toBe(0);
    expect(await keyStatuses(user)).toEqual({ [active]: 'Inactive', [inactive]: 'Inactive' });
    expect(await attached()).toEqual([`arn:aws:iam::123456789012:policy/holdfast/holdfast-revoke-${incident}-${role}`]);

    const md = await runCli(['status', '--incident', incident, '--sitrep'], { cwd, env: motoEnv() });
    expect(md.code).toBe(0);
    const contained = md.stdout.split('### Contained\n')[1]!.split('###')[0]!;
    expect(contained).toContain(`- user ${user}: access key ${active} set Inactive (not deleted)`);
    expect(contained).not.toContain(inactive);
    expect(contained).toMatch(
      new RegExp(
        `- role ${role}: sessions issued before \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ revoked .*no other instance or service account holds this role`,
      ),
    );

    // Its dry run says so first; the release restores service, not credentials: both stay contained, and the output says so.
    const dryRelease = await runCli(['release', '--incident', incident, '--dry-run'], { cwd, env: motoEnv() });
    expect(dryRelease.code).toBe(0);
    expect(dryRelease.stderr).toMatch(
      new RegExp(
        `would leave user/${user}/access-key/${active} accessKeyStatus alone: .*credential containment stays in force`,
      ),
    );
    expect(dryRelease.stderr).toMatch(/0 changes would be undone, 2 left alone/);
    const service = await runCli(['release', '--incident', incident, '--approve'], { cwd, env: motoEnv() });
    expect(service.code).toBe(0);
    expect(service.stderr).toContain(`user ${user}'s access key ${active}: credential containment stays in force`);
    expect(service.stderr).toContain(`role ${role}'s sessions: credential containment stays in force`);
    expect(await keyStatuses(user)).toEqual({ [active]: 'Inactive', [inactive]: 'Inactive' });
    expect(await attached()).toHaveLength(1);
    // The sitrep still lists what is still in force.
    const after = await runCli(['status', '--incident', incident, '--sitrep'], { cwd, env: motoEnv() });
    const stillContained = after.stdout.split('### Contained\n')[1]!.split('###')[0]!;
    expect(stillContained).toContain(`- user ${user}: access key ${active} set Inactive (not deleted)`);

    const released = await runCli(['release', '--incident', incident, '--approve', '--restore-credentials'], {
      cwd,
      env: motoEnv(),
    });
    expect(released.code).toBe(0);
    expect(await keyStatuses(user)).toEqual({ [active]: 'Active', [inactive]: 'Inactive' });
    expect(await attached()).toEqual([]);
  });

  it('refuses an unknown user or role before any change, naming the input', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-cli-iam-'));
    const res = await runCli(
      [
        'capture',
        '--incident',
        testIncident('CIAMX'),
        '--iam-user',
        'nobody-here',
        '--iam-role',
        'no-such-role',
        '--store',
        'es',
      ],
      { cwd, env: motoEnv() },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--iam-user nobody-here: no such user');
    expect(res.stderr).toContain('--iam-role no-such-role: no such role');
  });

  it('--revoke-role-sessions plans the revocation of an instance profile role at medium severity, naming the blast radius', async () => {
    const s = Math.random().toString(16).slice(2, 8);
    const roleName = `app-${s}`;
    await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const profile = (await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: roleName })))
      .InstanceProfile!;
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: roleName, RoleName: roleName }));
    const ec2 = new EC2Client({
      endpoint: inject('motoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
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
    const [suspect, neighbour] = [await launch(), await launch()];
    const cwd = mkdtempSync(join(tmpdir(), 'hf-cli-iam-'));
    const base = [
      'plan',
      '--incident',
      testIncident('CIAMP'),
      '--instance',
      suspect,
      '--severity',
      'medium',
      '--no-forensic-access',
      '--store',
      'es',
    ];
    const steps = (file: string) =>
      (JSON.parse(readFileSync(join(cwd, file), 'utf8')) as { steps: { id: string; title: string }[] }).steps;

    const without = await runCli([...base, '--out', 'plain.json'], { cwd, env: motoEnv() });
    expect(without.code).toBe(0);
    expect(steps('plain.json').filter((st) => st.id.startsWith('iam:'))).toEqual([]);
    expect(without.stderr).toContain(`${suspect} runs with instance profile ${roleName}`);

    const asked = await runCli([...base, '--revoke-role-sessions', '--out', 'asked.json'], { cwd, env: motoEnv() });
    expect(asked.code).toBe(0);
    const revoke = steps('asked.json').find((st) => st.id === `iam:revoke-sessions/role/${roleName}`);
    expect(revoke?.title).toContain(`also cuts instances ${neighbour}`);
  });
});
