/** The IAM planner (pure), its params and the revocation policy's name and document. */
import { describe, expect, it } from 'vitest';
import { describeProblem } from '../../src/core/errors.js';
import { buildPlan } from '../../src/engine/plan.js';
import { isHoldfastRevocationPolicyArn } from '../../src/core/guard.js';
import { iamProvider } from '../../providers/iam/index.js';
import { parseIamParams } from '../../providers/iam/params.js';
import type { IamFacts, RoleFacts } from '../../providers/iam/facts.js';
import {
  conditionTime,
  MAX_IAM_POLICY_NAME_LENGTH,
  revocationDocument,
  revocationPolicyArn,
  revocationPolicyName,
  revocationTimeOf,
} from '../../providers/iam/revocation-policy.js';
import type { Case, Provider } from '../../src/core/types.js';

const kase = (over: Partial<Case> = {}): Case => ({
  incident: 'IR-2026-0042',
  severity: 'high',
  approveContainment: false,
  contain: true,
  forensicCidrs: [],
  store: { kind: 'fs', dir: '/tmp/x' },
  targets: { iam: {} },
  ...over,
});

const params = parseIamParams({}).params!;
const role = (over: Partial<RoleFacts> = {}): RoleFacts => ({
  name: 'web',
  arn: 'arn:aws:iam::123456789012:role/app/web',
  reasons: [{ kind: 'instance-profile', via: 'i-0abc12345678' }],
  instanceProfiles: ['arn:aws:iam::123456789012:instance-profile/web'],
  otherInstances: [{ instanceId: 'i-0def12345678', instanceProfile: 'arn:aws:iam::123456789012:instance-profile/web' }],
  serviceAccounts: [],
  revoke: true,
  ...over,
});
const facts = (over: Partial<IamFacts> = {}): IamFacts => ({ params, roles: [], users: [], notes: [], ...over });
const plan = (f: IamFacts, c = kase()) => buildPlan(c, new Map([['iam', f]]), [iamProvider as unknown as Provider]);

describe('iam planner', () => {
  it('records each role before revoking its sessions, and names the blast radius', () => {
    const p = plan(facts({ roles: [role()] }));
    const revoke = p.steps.find((s) => s.id === 'iam:revoke-sessions/role/web')!;
    expect(revoke.phase).toBe('contain');
    expect(revoke.dependsOn).toEqual(['iam:record/role/web']);
    expect(revoke.title).toMatch(/also cuts instances i-0def12345678 \(same instance profile\)/);
    expect(revoke.inputs).toMatchObject({
      policyName: 'holdfast-revoke-IR-2026-0042-web',
      policyArn: 'arn:aws:iam::123456789012:policy/holdfast/holdfast-revoke-IR-2026-0042-web',
    });
    expect(isHoldfastRevocationPolicyArn(revoke.inputs.policyArn)).toBe(true);
    expect(p.limitations.join('\n')).toMatch(/for every holder of the role/);
  });

  it('names service accounts of a pod role as blast radius', () => {
    const p = plan(
      facts({
        roles: [role({ otherInstances: [], instanceProfiles: [], serviceAccounts: ['shop/api', 'shop/worker'] })],
      }),
    );
    expect(p.steps.find((s) => s.action === 'revoke-sessions')!.title).toMatch(
      /also cuts pods of service accounts shop\/api, shop\/worker/,
    );
  });

  it('records a user and plans deactivation of its active keys only', () => {
    const p = plan(
      facts({
        users: [
          {
            name: 'ci',
            arn: 'arn:aws:iam::123456789012:user/ci',
            activeKeys: ['AKIAACTIVE0000000001'],
            inactiveKeys: ['AKIAINACTIVE00000002'],
          },
        ],
      }),
    );
    expect(p.steps.map((s) => s.id)).toEqual(['iam:record/user/ci', 'iam:deactivate-keys/user/ci']);
    expect(p.steps[1]!.title).toMatch(/AKIAACTIVE0000000001; AKIAINACTIVE00000002 already inactive, left/);
    expect(p.limitations.join('\n')).toMatch(/temporary credentials already obtained/);
  });

  it('holds containment for approval at low severity and drops it with --no-contain', () => {
    const low = plan(facts({ roles: [role()] }), kase({ severity: 'low' }));
    expect(low.waiting.map((w) => w.stepId)).toEqual(['iam:revoke-sessions/role/web']);
    const none = plan(facts({ roles: [role()] }), kase({ contain: false }));
    expect(none.steps.map((s) => s.id)).toEqual(['iam:record/role/web']);
  });

  it('refuses --revoke-role-sessions alone, before any change', () => {
    expect(() => plan(facts({ params: { ...params, revokeRoleSessions: true } }))).toThrow(
      /apply to the roles of targets\.ec2\.instances or targets\.kubernetes\.pods targets/,
    );
  });
});

describe('iam params', () => {
  it('names every bad input', () => {
    const r = parseIamParams({
      roles: ['bad role'],
      users: ['x/y'],
      instanceProfiles: ['i-1=nope'],
      podRoles: ['shop/web=arn:aws:iam::123456789012:role/ok'],
      extra: 1,
    });
    expect(r.problems.map(describeProblem)).toEqual([
      'targets.iam.extra: unknown field',
      'targets.iam.roles[0]: "bad role" is not a role name or role ARN (arn:aws:iam::123456789012:role/name)',
      'targets.iam.users[0]: "x/y" is not an IAM user name',
      'targets.iam.instanceProfiles[0]: "i-1=nope": expected i-…=instance profile ARN',
    ]);
  });
});

describe('revocation policy', () => {
  it('denies everything to tokens issued before the time, and reads the time back', () => {
    const doc = revocationDocument('2026-12-03T16:50:01Z');
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'HoldfastRevokeOlderSessions',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-12-03T16:50:01Z' } },
        },
      ],
    });
    expect(revocationTimeOf(doc)).toBe('2026-12-03T16:50:01Z');
    expect(revocationTimeOf({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })).toBeUndefined();
  });

  it('rounds the time up to the whole second', () => {
    expect(conditionTime(new Date('2026-12-03T16:50:00.001Z'))).toBe('2026-12-03T16:50:01Z');
    expect(conditionTime(new Date('2026-12-03T16:50:00.000Z'))).toBe('2026-12-03T16:50:00Z');
  });

  it("keeps names within 128 characters and in the guard's pattern", () => {
    const name = revocationPolicyName('IR-2026-0042-with-a-long-incident-name', 'r'.repeat(64));
    expect(name.length).toBeLessThanOrEqual(MAX_IAM_POLICY_NAME_LENGTH);
    expect(isHoldfastRevocationPolicyArn(revocationPolicyArn('arn:aws:iam::123456789012:role/x', name))).toBe(true);
    expect(revocationPolicyArn('arn:aws-cn:iam::123456789012:role/p/x', 'n')).toBe(
      'arn:aws-cn:iam::123456789012:policy/holdfast/n',
    );
  });
});
