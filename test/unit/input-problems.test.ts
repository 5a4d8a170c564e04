/**
 * A library caller hands a Case object, not flags: its errors name case paths and never a flag.
 * The CLI alone turns those paths into flags (src/cli/input-names.ts).
 */
import { describe, expect, it } from 'vitest';
import { builtinProviders, planCapture } from '../../src/index.js';
import { BadInputError, describeProblem, type InputProblem } from '../../src/core/errors.js';
import { readCaseFile, type CaseInput } from '../../src/engine/case.js';
import { cliErrorText, inputNames, renderProblem } from '../../src/cli/input-names.js';

async function problemsOf(input: CaseInput): Promise<BadInputError> {
  const error: unknown = await planCapture(input, { providers: builtinProviders, cwd: '/tmp' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BadInputError);
  return error as BadInputError;
}

/** A bad case touching every provider and most case fields. */
const badCase: CaseInput = {
  incident: 'IR 1',
  severity: 'urgent',
  forensicCidrs: ['10.1.0.0/16', '0.0.0.0/0'],
  forensicPorts: '22,70000',
  region: 'moon',
  assumeRole: 'root',
  connectTimeout: 0,
  store: 's3://Bad_Bucket',
  retainDays: 0,
  targets: {
    ec2: { instances: ['i-0123456789abcdef0', 'i-123'], copyToAccount: '123456789012' },
    rds: { dbInstances: ['1db'] },
    dump: { urls: ['postgres://u:secret@db/x'], passwordEnv: 'not a name' },
    kubernetes: { pods: ['shop/web', 'shop/api', 'no-slash'], nodes: ['Bad_Node'] },
    iam: { users: ['x/y'] },
    nosuch: {},
  },
};

describe('library errors name case fields', () => {
  it('every problem of a bad Case object, each by its case path, none naming a flag', async () => {
    const error = await problemsOf(badCase);
    const fields = error.problems.map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'incident',
        'severity',
        'forensicCidrs[1]',
        'forensicPorts',
        'region',
        'assumeRole',
        'connectTimeout',
        'store',
        'retainDays',
        'targets.nosuch',
        'targets.ec2.instances[1]',
        'targets.ec2.copyToAccount',
        'targets.rds.dbInstances[0]',
        'targets.dump.urls[0]',
        'targets.dump.passwordEnv',
        'targets.kubernetes.pods[2]',
        'targets.kubernetes.nodes[0]',
        'targets.iam.users[0]',
      ]),
    );
    expect(fields).not.toContain('forensicCidrs[0]');
    expect(error.problems).toContainEqual({
      field: 'targets.ec2.instances[1]',
      message: '"i-123" is not an EC2 instance id (i-0123456789abcdef0)',
      continues: true,
    });
    expect(error.details).toContain(
      'targets.ec2.instances[1]: "i-123" is not an EC2 instance id (i-0123456789abcdef0)',
    );
    for (const p of error.problems) expect(p.message, p.field).not.toContain('--');
    expect(error.fullMessage).not.toContain('--');
    expect(error.fullMessage).not.toContain('secret');
  });

  it('messages that name another field name its case path', async () => {
    const error = await problemsOf({ incident: 'IR-1-2', targets: { ec2: { kmsKey: 'alias/x' } } });
    expect(error.problems.map(describeProblem)).toEqual([
      'targets.ec2: give targets.ec2.instances or targets.ec2.instanceTags',
      'targets.ec2.kmsKey: is only used with targets.ec2.copyToAccount',
    ]);
    const none = await problemsOf({ incident: 'IR-1-2' });
    expect(none.message).toMatch(/^bad input: no targets: give at least one of targets\.ec2\.instances, /);
    expect(none.message).not.toContain('--');
  });

  it('a case file problem names the file', () => {
    expect(() => readCaseFile('/nonexistent/case.yaml')).toThrow(
      expect.objectContaining({ problems: [{ field: '/nonexistent/case.yaml', message: 'cannot read (ENOENT)' }] }),
    );
  });
});

describe('the CLI names its flags', () => {
  const names = inputNames(builtinProviders);
  const cli = (p: InputProblem) => renderProblem(p, names);

  it('maps case paths (any list index) to the flag that sets them, from the providers declarations', () => {
    expect(names.get('incident')).toBe('--incident');
    expect(names.get('forensicCidrs')).toBe('--forensic-cidr');
    expect(names.get('contain')).toBe('--no-contain');
    expect(names.get('concurrency')).toBe('--concurrency');
    expect(names.get('targets.kubernetes.pods')).toBe('--pod');
    expect(names.get('targets.rds.dbClusters')).toBe('--db-cluster');
    for (const provider of builtinProviders)
      for (const flag of provider.flags)
        expect(names.get(`targets.${provider.id}.${flag.param}`)).toBe(flag.flags.split(' ')[0]);
  });

  it('renders the same bad Case with flag names, each problem in the words a responder typed', async () => {
    const error = await problemsOf(badCase);
    const text = cliErrorText(error, names);
    for (const fragment of [
      '--incident "IR 1" must start with a letter',
      '--severity: expected high, medium or low',
      '--forensic-cidr "0.0.0.0/0" is wider than /16',
      '--forensic-ports "70000" is not a port',
      '--region: "moon" is not an AWS region name',
      '--assume-role: "root" is not an IAM role ARN',
      '--connect-timeout: expected seconds',
      '--store: "Bad_Bucket" is not a valid S3 bucket name',
      '--retain-days: expected a whole number',
      'targets.nosuch: no such provider',
      '--instance "i-123" is not an EC2 instance id',
      '--copy-to-account needs --kms-key',
      '--db-instance "1db" is not a DB instance identifier',
      '--dump postgres://u:***@db/x: a password in the URL would show in process lists and logs; use --dump-password-env or --dump-password-file',
      '--dump-password-env "not a name" is not an environment variable name',
      '--pod "no-slash": expected namespace/name',
      '--node "Bad_Node" is not a node name',
      '--iam-user "x/y" is not an IAM user name',
    ])
      expect(text).toContain(fragment);
    expect(text).not.toContain('secret');
    expect(text).toMatch(/^bad input: \d+ problems\n {2}- /);
  });

  it('a case path without a flag stays a path; a provider is named by its id; a file or variable as it is', () => {
    expect(cli({ field: 'targets.dump.databases[0].extra', message: 'unknown field' })).toBe(
      'targets.dump.databases[0].extra: unknown field',
    );
    expect(cli({ field: 'targets.ec2', message: 'give targets.ec2.instances or targets.ec2.instanceTags' })).toBe(
      'ec2: give --instance or --instance-tag',
    );
    expect(cli({ field: 'UNSET_PW', message: 'the variable is not set (named by targets.dump.passwordEnv)' })).toBe(
      'UNSET_PW: the variable is not set (named by --dump-password-env)',
    );
    expect(cli({ field: 'incident', message: 'is required', continues: true })).toBe('--incident is required');
    expect(
      cli({ field: 'incident', message: 'IR-1 was signed by k; pass the same key (`signer`)', continues: true }),
    ).toBe('--incident IR-1 was signed by k; pass the same key (--sign-key or --sign-kms-key)');
    expect(cli({ field: 'x', message: 'pick another (`stateDir`) or `unknownThing`' })).toBe(
      'x: pick another (--state-dir) or `unknownThing`',
    );
  });
});

describe('problems outside the case name what they are about', () => {
  it('an environment variable, a plan, a key file and an option are each the field', async () => {
    const { parseRateLimits } = await import('../../src/aws/rate-limit.js');
    const { assertUsablePlan } = await import('../../src/engine/saved-plan.js');
    const { localSigner } = await import('../../src/evidence/signing.js');
    const { executePlan } = await import('../../src/engine/execute.js');
    const fieldsOf = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        expect(error).toBeInstanceOf(BadInputError);
        return (error as BadInputError).problems;
      }
      throw new Error('did not throw');
    };
    expect(fieldsOf(() => parseRateLimits('CreateTags=fast'))).toEqual([
      expect.objectContaining({ field: 'HOLDFAST_EC2_RATE_LIMITS' }),
    ]);
    expect(fieldsOf(() => assertUsablePlan({ schema: 'holdfast/plan@9' }, builtinProviders))).toEqual([
      expect.objectContaining({ field: 'plan', message: expect.stringContaining('has schema') }),
    ]);
    expect(fieldsOf(() => localSigner('/nonexistent/key.pem'))).toEqual([
      expect.objectContaining({ field: '/nonexistent/key.pem', message: expect.stringContaining('no such file') }),
    ]);
    const plan = { incident: 'IR-1-2', case: { incident: 'IR-1-2' } } as never;
    const bad = await executePlan(plan, { concurrency: 0 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadInputError);
    expect((bad as BadInputError).problems).toEqual([expect.objectContaining({ field: 'concurrency' })]);
    expect(cliErrorText(bad as BadInputError, inputNames([]))).toMatch(/^bad input: --concurrency: expected/);
  });
});

describe('release and verify take an incident id from the caller', () => {
  it('a bad id is named as the incident field before any path or key is built from it', async () => {
    const { releaseContainment, verifyEvidence } = await import('../../src/index.js');
    const store = {} as never;
    for (const attempt of [
      releaseContainment({ incident: '../etc', stateDir: '/nonexistent' }),
      verifyEvidence(store, '../etc'),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadInputError);
      expect((error as BadInputError).problems).toEqual([
        expect.objectContaining({ field: 'incident', message: expect.stringMatching(/^"\.\.\/etc" must start/) }),
      ]);
      expect((error as BadInputError).message).not.toContain('--');
    }
  });
});
