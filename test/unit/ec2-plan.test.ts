/** The EC2 planner is pure: facts built in memory → steps, ordering and limitations. */
import { describe, expect, it } from 'vitest';
import { describeProblem } from '../../src/core/errors.js';
import { buildPlan } from '../../src/engine/plan.js';
import type { Case, Provider } from '../../src/core/types.js';
import type { Ec2Facts, EniFacts, InstanceFacts } from '../../providers/ec2/facts.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { parseEc2Params } from '../../providers/ec2/params.js';

const kase = (extra: Partial<Case> = {}): Case => ({
  incident: 'IR-EC2-PLAN',
  severity: 'high',
  approveContainment: false,
  contain: true,
  forensicCidrs: ['198.51.100.7/32'],
  store: { kind: 'fs', dir: '/tmp/x' },
  targets: { ec2: {} },
  ...extra,
});

const eni = (id: string, vpcId: string, extra: Partial<EniFacts> = {}): EniFacts => ({
  id,
  vpcId,
  subnetId: 'subnet-1',
  groups: ['sg-app'],
  requesterManaged: false,
  deviceIndex: 0,
  ...extra,
});

function instance(id: string, extra: Partial<InstanceFacts> = {}): InstanceFacts {
  return {
    instanceId: id,
    state: 'running',
    spot: false,
    rootDeviceType: 'ebs',
    vpcId: 'vpc-a',
    availabilityZone: 'us-east-1a',
    tags: {},
    enis: [eni(`eni-${id}`, 'vpc-a')],
    volumes: [{ id: `vol-${id}`, device: '/dev/xvda', deleteOnTermination: true, sizeGiB: 8, encrypted: false }],
    registrations: [],
    ...extra,
  };
}

function facts(instances: InstanceFacts[], params: Partial<Ec2Facts['params']> = {}): Ec2Facts {
  return {
    region: 'us-east-1',
    params: {
      instances: instances.map((i) => i.instanceId),
      instanceTags: [],
      lockSnapshotsDays: null,
      copyToAccount: null,
      kmsKey: null,
      hashSnapshots: false,
      ...params,
    },
    instances,
  };
}

const plan = (f: Ec2Facts, k = kase()) => buildPlan(k, new Map([['ec2', f]]), [ec2Provider as unknown as Provider]);

describe('EC2 planner', () => {
  it('plans deterministic steps per instance: preserve, collect, contain through the VPC groups, settle', () => {
    const p = plan(facts([instance('i-1')]));
    const byId = Object.fromEntries(p.steps.map((s) => [s.id, s]));
    expect(Object.keys(byId).sort()).toEqual([
      'ec2:describe/i-1',
      'ec2:isolate/i-1',
      'ec2:isolation-group/vpc-a',
      'ec2:protect/i-1',
      'ec2:settle/i-1',
      'ec2:snapshot/i-1',
      'ec2:tag/i-1',
    ]);
    expect(byId['ec2:isolate/i-1']!.dependsOn).toEqual(
      expect.arrayContaining(['ec2:isolation-group/vpc-a', 'ec2:snapshot/i-1', 'ec2:describe/i-1', 'ec2:protect/i-1']),
    );
    expect(byId['ec2:tag/i-1']!.inputs.resources).toEqual(['i-1', 'vol-i-1', 'eni-i-1']);
    expect(plan(facts([instance('i-1')])).digest).toBe(p.digest);
  });

  it('moves an InService Auto Scaling member to Standby before isolation, and leaves only target groups the group does not manage', () => {
    const i = instance('i-2', {
      autoScaling: { group: 'web', lifecycleState: 'InService', targetGroupArns: ['arn:tg/managed'] },
      registrations: [
        { targetGroupArn: 'arn:tg/managed', port: 80 },
        { targetGroupArn: 'arn:tg/admin', port: 8080 },
      ],
    });
    const byId = Object.fromEntries(plan(facts([i])).steps.map((s) => [s.id, s]));
    expect(byId['ec2:standby/i-2']!.phase).toBe('preserve');
    expect(byId['ec2:isolate/i-2']!.dependsOn).toEqual(
      expect.arrayContaining(['ec2:standby/i-2', 'ec2:deregister/i-2']),
    );
    expect(byId['ec2:deregister/i-2']!.inputs.registrations).toEqual([{ targetGroupArn: 'arn:tg/admin', port: 8080 }]);
    const standing = plan(
      facts([instance('i-3', { autoScaling: { group: 'web', lifecycleState: 'Standby', targetGroupArns: [] } })]),
    );
    expect(standing.steps.map((s) => s.id)).not.toContain('ec2:standby/i-3');
  });

  it('refuses containment without forensic CIDRs unless forensic access is declined; --no-contain needs no decision', () => {
    expect(() => plan(facts([instance('i-7')]), kase({ forensicCidrs: [] }))).toThrow(
      /forensicCidrs: none given, and containment would leave the isolation groups admitting nobody/,
    );
    const preserved = plan(facts([instance('i-7')]), kase({ forensicCidrs: [], contain: false }));
    expect(preserved.steps.some((s) => s.phase === 'contain')).toBe(false);
    expect(preserved.limitations.join('\n')).not.toMatch(/forensic/);
  });

  it('makes one isolation-group step per VPC of non-requester-managed interfaces, and lists the limits', () => {
    const a = instance('i-4', {
      enis: [
        eni('eni-a0', 'vpc-a'),
        eni('eni-b1', 'vpc-b', { deviceIndex: 1 }),
        eni('eni-rm', 'vpc-c', { requesterManaged: true, deviceIndex: 2 }),
      ],
    });
    const b = instance('i-5', { spot: true });
    const c = instance('i-6', { rootDeviceType: 'instance-store' });
    const p = plan(facts([a, b, c]), kase({ forensicCidrs: [], forensicAccess: false }));
    expect(p.steps.filter((s) => s.action === 'isolation-group').map((s) => s.id)).toEqual([
      'ec2:isolation-group/vpc-a',
      'ec2:isolation-group/vpc-b',
    ]);
    expect(p.steps.find((s) => s.id === 'ec2:isolate/i-4')!.dependsOn).toEqual(
      expect.arrayContaining(['ec2:isolation-group/vpc-a', 'ec2:isolation-group/vpc-b']),
    );
    const text = p.limitations.join('\n');
    expect(text).toContain('eni-rm on i-4 is managed by another AWS service');
    expect(text).toContain('i-5 is a Spot instance: stop protection is not supported');
    expect(text).toContain('i-6 has an instance-store root: stop protection is not supported');
    expect(text).toContain('forensic access declined: the isolation groups admit nobody');
    expect(text).toMatch(/ICMP and flows through NAT gateways, Network Load Balancers and PrivateLink stay tracked/);
    expect(text).toMatch(/VPC DNS resolver .* instance metadata service/);
    expect(p.steps.find((s) => s.id === 'ec2:protect/i-5')!.inputs.stopProtectionBlocker).toMatch(/Spot/);
  });

  it('plans no containment with --no-contain, and holds it for approval at low severity', () => {
    expect(plan(facts([instance('i-7')]), kase({ contain: false })).steps.filter((s) => s.phase === 'contain')).toEqual(
      [],
    );
    const low = plan(facts([instance('i-8')]), kase({ severity: 'low' }));
    expect(low.steps.filter((s) => s.phase === 'contain').every((s) => s.awaitsApproval)).toBe(true);
  });

  it('locks the set in the snapshot step and carries copy options into settle', () => {
    const p = plan(
      facts([instance('i-9')], { lockSnapshotsDays: 30, copyToAccount: '111122223333', kmsKey: 'alias/forensics' }),
    );
    expect(p.steps.find((s) => s.id === 'ec2:snapshot/i-9')!.inputs.lockDays).toBe(30);
    expect(p.steps.find((s) => s.id === 'ec2:settle/i-9')!.inputs).toMatchObject({
      snapshotStep: 'ec2:snapshot/i-9',
      lockDays: 30,
      copyToAccount: '111122223333',
      kmsKey: 'alias/forensics',
    });
    expect(p.steps.some((s) => s.action === 'hash-snapshots')).toBe(false);
  });

  it('--hash-snapshots adds a settle-phase step after settle and after containment, so it never delays isolation', () => {
    const p = plan(facts([instance('i-10')], { hashSnapshots: true }));
    const hash = p.steps.find((s) => s.id === 'ec2:hash-snapshots/i-10')!;
    expect(hash).toMatchObject({
      action: 'hash-snapshots',
      phase: 'settle',
      inputs: { instanceId: 'i-10', snapshotStep: 'ec2:snapshot/i-10', region: 'us-east-1' },
    });
    expect(hash.dependsOn).toEqual(expect.arrayContaining(['ec2:settle/i-10', 'ec2:isolate/i-10']));
    // Nothing waits for it: no other step depends on the hash.
    expect(p.steps.filter((s) => s.dependsOn.includes(hash.id))).toEqual([]);
  });
});

describe('EC2 params', () => {
  it('reports every problem at once, naming the case path (never a flag)', () => {
    const { problems } = parseEc2Params({
      instances: ['i-0123456789abcdef0', 'web-1'],
      instanceTags: ['novalue'],
      lockSnapshotsDays: 0,
      copyToAccount: '12',
      extra: true,
    });
    const described = problems.map(describeProblem);
    expect(described).toEqual(
      expect.arrayContaining([
        'targets.ec2.extra: unknown field',
        expect.stringContaining('targets.ec2.instances[1]: "web-1"'),
        expect.stringContaining('targets.ec2.instanceTags[0]: "novalue"'),
        expect.stringContaining('targets.ec2.lockSnapshotsDays'),
        expect.stringContaining('targets.ec2.copyToAccount: "12"'),
        expect.stringContaining('targets.ec2.copyToAccount: needs targets.ec2.kmsKey'),
      ]),
    );
    for (const text of described) expect(text).not.toContain('--');
    expect(
      parseEc2Params({ instances: 'i-0123456789abcdef0', hashSnapshots: 'yes' }).problems.map(describeProblem),
    ).toEqual(['targets.ec2.hashSnapshots: "yes" is not true or false']);
    expect(parseEc2Params({ instances: 'i-0123456789abcdef0' }).params?.hashSnapshots).toBe(false);
    expect(parseEc2Params({ instances: 'i-0123456789abcdef0', hashSnapshots: true }).params?.hashSnapshots).toBe(true);
    expect(parseEc2Params({ instances: 'i-0123456789abcdef0,i-0123456789abcdef1' }).params?.instances).toEqual([
      'i-0123456789abcdef0',
      'i-0123456789abcdef1',
    ]);
  });
});
