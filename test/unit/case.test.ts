import { describe, expect, it } from 'vitest';
import { parseCase } from '../../src/engine/case.js';
import { BadInputError } from '../../src/core/errors.js';
import { forensicCidrProblem } from '../../src/core/cidr.js';
import type { Provider } from '../../src/core/types.js';

const fake: Provider = {
  id: 'fake',
  summary: 'fake',
  flags: [{ flags: '--thing <id>', description: 'a thing', param: 'things', repeatable: true, target: true }],
  policies: [],
  example: '',
  parseParams: (raw) => ({
    params: raw,
    problems: Array.isArray(raw.things) && raw.things.length ? [] : ['--thing: give at least one'],
  }),
  discover: async () => ({}),
  plan: () => ({ steps: [] }),
  run: async () => ({}),
};

function problemsOf(input: Record<string, unknown>): string[] {
  try {
    parseCase(input, [fake]);
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError);
    const e = error as BadInputError;
    return e.details.length ? e.details : [e.message];
  }
  return [];
}

describe('parseCase', () => {
  it('accepts a minimal case and fills defaults', () => {
    const kase = parseCase({ incident: 'IR-2026-0042', targets: { fake: { things: ['x'] } } }, [fake], { cwd: '/tmp' });
    expect(kase).toMatchObject({
      incident: 'IR-2026-0042',
      severity: 'high',
      contain: true,
      approveContainment: false,
      forensicCidrs: [],
    });
    expect(kase.store).toEqual({ kind: 'fs', dir: '/tmp/evidence-store' });
  });

  it('takes forensicAccess: false as the decision to contain without forensic hosts, and refuses it beside CIDRs', () => {
    const base = { incident: 'IR-2026-0042', targets: { fake: { things: ['x'] } } };
    expect(parseCase({ ...base, forensicAccess: false }, [fake], { cwd: '/tmp' }).forensicAccess).toBe(false);
    expect(parseCase({ ...base, forensicAccess: 'false' }, [fake], { cwd: '/tmp' }).forensicAccess).toBe(false);
    expect('forensicAccess' in parseCase(base, [fake], { cwd: '/tmp' })).toBe(false);
    expect(problemsOf({ ...base, forensicAccess: false, forensicCidrs: ['203.0.113.7/32'] }).join()).toMatch(
      /forensicAccess:? and forensic CIDRs \(`forensicCidrs`\) are both given: choose one/,
    );
    expect(problemsOf({ ...base, forensicAccess: 'nope' }).join()).toMatch(/forensicAccess: expected true or false/);
  });

  it('reports every problem at once, each naming its case field', () => {
    const problems = problemsOf({
      incident: 'bad id!',
      severity: 'urgent',
      forensicCidrs: ['0.0.0.0/0', '10.0.0.0/8'],
      region: 'mars-1',
      store: 's3://Bad_Bucket',
      targets: { fake: { things: [] }, nope: {} },
    });
    expect(problems.some((p) => p.startsWith('incident: '))).toBe(true);
    expect(problems.some((p) => p.startsWith('severity: '))).toBe(true);
    expect(problems.filter((p) => /^forensicCidrs\[[01]\]: /.test(p))).toHaveLength(2);
    expect(problems.some((p) => p.startsWith('region: '))).toBe(true);
    expect(problems.some((p) => p.startsWith('store: '))).toBe(true);
    // A plug-in's plain-text problem is kept as it is.
    expect(problems.some((p) => p.includes('--thing'))).toBe(true);
    expect(problems.some((p) => p.startsWith('targets.nope: '))).toBe(true);
  });

  it.each([
    ['missing incident', {}, 'incident: is required'],
    ['incident with a double hyphen', { incident: 'IR--1' }, 'incident: "IR--1"'],
    ['incident too long', { incident: `IR-${'9'.repeat(40)}` }, 'longer than'],
    ['incident starting with a digit', { incident: '2026-42' }, 'incident: "2026-42"'],
    ['no targets', { incident: 'IR-1-2', targets: undefined }, 'no targets'],
    ['world-open CIDR', { incident: 'IR-1-2', forensicCidrs: ['0.0.0.0/0'] }, 'wider than /16'],
    ['IPv6 world', { incident: 'IR-1-2', forensicCidrs: ['::/0'] }, 'wider than /48'],
    ['CIDR with host bits', { incident: 'IR-1-2', forensicCidrs: ['203.0.113.7/24'] }, 'did you mean 203.0.113.0/24'],
    ['not a CIDR', { incident: 'IR-1-2', forensicCidrs: ['forensics'] }, 'not a CIDR'],
    ['bad ports', { incident: 'IR-1-2', forensicPorts: '22,70000' }, 'forensicPorts: "70000"'],
    ['bad retain days', { incident: 'IR-1-2', store: 's3://bucket-a', retainDays: 0 }, 'retainDays: '],
    ['bad retention mode', { incident: 'IR-1-2', store: 's3://bucket-a', retentionMode: 'FOREVER' }, 'retentionMode: '],
    ['lock options on a local store', { incident: 'IR-1-2', store: './x', retainDays: 3 }, 'only to an s3://'],
    ['bad role ARN', { incident: 'IR-1-2', assumeRole: 'admin' }, 'assumeRole: "admin"'],
    ['unknown case field', { incident: 'IR-1-2', sevrity: 'low' }, 'sevrity: unknown case field'],
  ])('refuses %s', (_label, input, fragment) => {
    const problems = problemsOf({ targets: { fake: { things: ['x'] } }, ...input } as Record<string, unknown>);
    expect(problems.join('\n')).toContain(fragment);
  });
});

describe('forensicCidrProblem', () => {
  it('accepts host and narrow ranges', () => {
    expect(forensicCidrProblem('203.0.113.7/32')).toBeUndefined();
    expect(forensicCidrProblem('10.20.0.0/16')).toBeUndefined();
    expect(forensicCidrProblem('2001:db8::/64')).toBeUndefined();
  });
});
