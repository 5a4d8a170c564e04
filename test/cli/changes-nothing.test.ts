/**
 * `plan`, `capture --dry-run` and every refused input leave the platform exactly as it was. This
 * file runs its own moto server so the whole emulator state can be compared before and after.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type MotoServer } from '../../src/emulators/moto.js';
import { runCli, STREAM_PLUGIN } from '../support/cli.js';

let moto: MotoServer;
let env: NodeJS.ProcessEnv;
const lockedBucket = 'hf-nothing-locked';
const openBucket = 'hf-nothing-open';

const motoState = async () => (await fetch(`${moto.endpoint}/moto-api/data.json`)).text();

beforeAll(async () => {
  moto = await startMoto();
  env = {
    ...process.env,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    HOLDFAST_AWS_MAX_ATTEMPTS: '1',
    HOLDFAST_PLUGIN: STREAM_PLUGIN,
  };
  const s3 = new S3Client({
    endpoint: moto.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: lockedBucket, ObjectLockEnabledForBucket: true }));
  await s3.send(new CreateBucketCommand({ Bucket: openBucket }));
});

afterAll(async () => {
  await moto?.stop();
});

describe('nothing changes', () => {
  it('plan and capture --dry-run leave moto and the disk untouched, and report each step', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-dry-'));
    const before = await motoState();
    const common = [
      '--incident',
      'IR-DRY-1',
      '--test-stream',
      'a',
      '--test-stream',
      'b',
      '--store',
      `s3://${lockedBucket}/x`,
    ];
    const plan = await runCli(['plan', ...common, '--json'], { cwd, env });
    expect(plan.code).toBe(0);
    expect(plan.lines.filter((l) => l.type === 'preflight.result')).toHaveLength(6);
    const dry = await runCli(['capture', ...common, '--dry-run', '--json'], { cwd, env });
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain('nothing was changed');
    expect(dry.lines.at(-1)).toMatchObject({ type: 'outcome', status: 'planned', dryRun: true });
    expect(await motoState()).toBe(before);
    expect(existsSync(join(cwd, '.holdfast'))).toBe(false);
  });

  it('a dry run against a bucket without Object Lock says so and exits 2, still changing nothing', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-dry-'));
    const before = await motoState();
    const dry = await runCli(
      ['capture', '--incident', 'IR-DRY-2', '--test-stream', 'a', '--store', `s3://${openBucket}`, '--dry-run'],
      { cwd, env },
    );
    expect(dry.code).toBe(2);
    expect(dry.stderr).toMatch(/store problem — --store s3:\/\/hf-nothing-open has no Object Lock/);
    const real = await runCli(
      ['capture', '--incident', 'IR-DRY-2', '--test-stream', 'a', '--store', `s3://${openBucket}`],
      { cwd, env },
    );
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('--allow-unlocked-store');
    expect(await motoState()).toBe(before);
  });

  const target = ['--test-stream', 'a', '--store', `s3://${lockedBucket}`];
  const cases: [string, string[], RegExp][] = [
    ['missing incident', ['capture', ...target], /--incident is required/],
    ['incident with spaces', ['capture', '--incident', 'IR 1', ...target], /--incident "IR 1"/],
    ['incident too long', ['capture', '--incident', `IR-${'1'.repeat(45)}`, ...target], /--incident .* longer than 40/],
    [
      'no targets',
      ['capture', '--incident', 'IR-BAD-1', '--store', 'es'],
      /no targets: give at least one of --instance, .*--pod, .*--test-stream/,
    ],
    [
      '0.0.0.0/0 forensic CIDR',
      ['capture', '--incident', 'IR-BAD-1', '--forensic-cidr', '0.0.0.0/0', ...target],
      /--forensic-cidr "0.0.0.0\/0" is wider than \/16/,
    ],
    [
      '::/0 forensic CIDR',
      ['capture', '--incident', 'IR-BAD-1', '--forensic-cidr', '::/0', ...target],
      /--forensic-cidr "::\/0"/,
    ],
    [
      '/8 forensic CIDR',
      ['capture', '--incident', 'IR-BAD-1', '--forensic-cidr', '10.0.0.0/8', ...target],
      /wider than \/16/,
    ],
    [
      'garbage CIDR',
      ['capture', '--incident', 'IR-BAD-1', '--forensic-cidr', 'lab', ...target],
      /--forensic-cidr "lab" is not a CIDR/,
    ],
    ['unknown severity', ['capture', '--incident', 'IR-BAD-1', '--severity', 'urgent', ...target], /--severity/],
    ['bad region', ['capture', '--incident', 'IR-BAD-1', '--region', 'moon', ...target], /--region: "moon"/],
    [
      'bad bucket',
      ['capture', '--incident', 'IR-BAD-1', '--test-stream', 'a', '--store', 's3://UPPER_case'],
      /--store: "UPPER_case" is not a valid S3 bucket/,
    ],
    ['retain days zero', ['capture', '--incident', 'IR-BAD-1', ...target, '--retain-days', '0'], /--retain-days/],
    [
      'bad role ARN',
      ['capture', '--incident', 'IR-BAD-1', '--assume-role', 'root', ...target],
      /--assume-role: "root"/,
    ],
    [
      'bad port list',
      ['capture', '--incident', 'IR-BAD-1', '--forensic-ports', '22,99999', ...target],
      /--forensic-ports "99999"/,
    ],
    ['bad concurrency', ['capture', '--incident', 'IR-BAD-1', '--concurrency', '0', ...target], /--concurrency/],
    [
      'unknown flag',
      ['capture', '--incident', 'IR-BAD-1', '--instanse', 'i-1', ...target],
      /unknown option '--instanse'/,
    ],
    ['missing case file', ['capture', '--case', 'nope.yaml'], /--case nope.yaml: cannot read/],
    [
      'provider params',
      ['capture', '--incident', 'IR-BAD-1', '--test-stream', 'UPPER', '--store', 'es'],
      /--test-stream "UPPER"/,
    ],
    [
      'missing plan file',
      ['apply', 'missing-plan.json'],
      /plan missing-plan.json: cannot read \/\S+\/missing-plan.json: missing \(ENOENT\); save one with `evidence plan … --out missing-plan.json`/,
    ],
    ['release without --approve', ['release', '--incident', 'IR-BAD-1'], /--approve is required/],
    ['verify with a bad incident', ['verify', '--incident', '../etc'], /--incident "..\/etc"/],
  ];

  it.each(cases)('refuses %s with exit 2, naming the input, before any call', async (_label, args, message) => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-bad-'));
    const before = await motoState();
    const res = await runCli(args, { cwd, env });
    expect(res.stderr).toMatch(message);
    expect(res.code).toBe(2);
    expect(await motoState()).toBe(before);
    expect(existsSync(join(cwd, '.holdfast'))).toBe(false);
  });

  it('lists every problem of a bad case file at once', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-bad-'));
    writeFileSync(
      join(cwd, 'case.yaml'),
      'incident: "x y"\nseverity: urgent\nforensicCidrs: [0.0.0.0/0]\ntargets:\n  teststream: {names: []}\n  nosuch: {}\n',
    );
    const res = await runCli(['capture', '--case', 'case.yaml'], { cwd, env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('5 problems');
    for (const part of ['--incident', '--severity', '--forensic-cidr', '--test-stream', 'targets.nosuch'])
      expect(res.stderr).toContain(part);
  });

  it('names flags for the case paths the library reports (one table in the CLI)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-bad-'));
    writeFileSync(
      join(cwd, 'case.yaml'),
      [
        'incident: IR-BAD-2',
        'forensicPorts: "22,70000"',
        'targets:',
        '  ec2: {instances: [i-0123456789abcdef0, i-123], kmsKey: alias/x}',
        '  kubernetes: {pods: [shop/web, no-slash]}',
        '  iam: {users: [x/y]}',
        '',
      ].join('\n'),
    );
    const res = await runCli(['capture', '--case', 'case.yaml', '--db-instance', '1db'], { cwd, env });
    expect(res.code).toBe(2);
    for (const part of [
      '--forensic-ports "70000" is not a port',
      '--instance "i-123" is not an EC2 instance id',
      '--kms-key is only used with --copy-to-account',
      '--pod "no-slash": expected namespace/name',
      '--iam-user "x/y" is not an IAM user name',
      '--db-instance "1db" is not a DB instance identifier',
    ])
      expect(res.stderr).toContain(part);
    expect(res.stderr).not.toMatch(/targets\.|forensicPorts/);
  });
});
