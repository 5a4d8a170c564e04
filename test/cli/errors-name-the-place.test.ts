/** Errors say what is wrong and where: a missing store bucket, an instance not in the region searched (exit 2). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, DescribeTagsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, inject, it } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';

function ec2In(region: string): EC2Client {
  return new EC2Client({
    endpoint: inject('motoEndpoint'),
    region,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

async function launch(region: string): Promise<string> {
  const ec2 = ec2In(region);
  const image = (await ec2.send(new DescribeImagesCommand({ MaxResults: 5 }))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  return (
    await ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }))
  ).Instances![0]!.InstanceId!;
}

const tagsOf = async (region: string, id: string) =>
  (await ec2In(region).send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }))).Tags ?? [];

describe('errors name the place', () => {
  it('a store bucket that does not exist: one line naming the bucket and region, exit 2, nothing changed', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-nobucket-'));
    const instanceId = await launch('us-east-1');
    const bucket = `holdfast-missing-${Math.random().toString(16).slice(2, 10)}`;
    const env = motoEnv();
    const res = await runCli(
      [
        'capture',
        '--incident',
        testIncident('NOBKT'),
        '--instance',
        instanceId,
        '--forensic-cidr',
        '203.0.113.7/32',
        '--store',
        `s3://${bucket}/cases`,
      ],
      { cwd, env },
    );
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain(
      `evidence: bad input: --store s3://${bucket} (region us-east-1): no such bucket, or not one these credentials can see; create it (with Object Lock) or name an existing one`,
    );
    expect(res.stderr).not.toContain('UnknownError');
    expect(await tagsOf('us-east-1', instanceId)).toEqual([]);

    // verify and status against that store say the same, not "no journal".
    for (const args of [
      ['verify', '--incident', 'IR-NOBKT-1', '--store', `s3://${bucket}/cases`],
      ['status', '--incident', 'IR-NOBKT-1', '--store', `s3://${bucket}/cases`],
    ]) {
      const r = await runCli(args, { cwd, env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--store s3://${bucket} (region us-east-1): no such bucket`);
      expect(r.stderr).not.toContain('no journal');
    }
  });

  it('an instance in another region: names the region and account searched, exit 2, nothing changed', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-noinst-'));
    const elsewhere = await launch('eu-west-1');
    const res = await runCli(
      [
        'capture',
        '--incident',
        testIncident('NOINST'),
        '--instance',
        elsewhere,
        '--forensic-cidr',
        '203.0.113.7/32',
        '--store',
        'es',
      ],
      { cwd, env: motoEnv() },
    );
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain(
      `evidence: bad input: --instance ${elsewhere}: no such instance in region us-east-1 of account 123456789012 (searched there only); if it runs elsewhere, give its --region or credentials for its account (--assume-role)`,
    );
    expect(res.stderr).not.toContain('does not exist');
    expect(await tagsOf('eu-west-1', elsewhere)).toEqual([]);
  });
});
