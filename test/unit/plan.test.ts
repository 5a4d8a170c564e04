import { describe, expect, it } from 'vitest';
import { buildPlan, planDigest } from '../../src/engine/plan.js';
import type { Case, Provider, StepDraft } from '../../src/core/types.js';

function provider(id: string, steps: StepDraft[], relate?: Provider['relate']): Provider {
  return {
    id,
    summary: id,
    flags: [],
    policies: [],
    example: '',
    parseParams: (r) => ({ params: r, problems: [] }),
    discover: async () => ({}),
    plan: () => ({ steps }),
    run: async () => ({}),
    ...(relate ? { relate } : {}),
  };
}

const kase = (extra: Partial<Case> = {}): Case => ({
  incident: 'IR-P-1',
  severity: 'high',
  approveContainment: false,
  contain: true,
  forensicCidrs: [],
  store: { kind: 'fs', dir: '/tmp/x' },
  targets: { a: {}, b: {} },
  ...extra,
});

const stepsA: StepDraft[] = [
  { id: 'contain/x', action: 'isolate', phase: 'contain', target: 'a:x', title: 'isolate x', inputs: {} },
  { id: 'snap/x', action: 'snapshot', phase: 'collect', target: 'a:x', title: 'snapshot x', inputs: {} },
  { id: 'tag/x', action: 'tag', phase: 'preserve', target: 'a:x', title: 'tag x', inputs: {} },
  { id: 'tag/y', action: 'tag', phase: 'preserve', target: 'a:y', title: 'tag y', inputs: {} },
];

describe('buildPlan', () => {
  const facts = new Map<string, unknown>([
    ['a', {}],
    ['b', {}],
  ]);

  it('namespaces ids and orders phases within a target only', () => {
    const plan = buildPlan(kase(), facts, [provider('a', stepsA)]);
    const byId = Object.fromEntries(plan.steps.map((s) => [s.id, s]));
    expect(byId['a:contain/x']!.dependsOn.sort()).toEqual(['a:snap/x', 'a:tag/x']);
    expect(byId['a:snap/x']!.dependsOn).toEqual(['a:tag/x']);
    expect(byId['a:tag/y']!.dependsOn).toEqual([]);
    expect(plan.schema).toBe('holdfast/plan@1');
  });

  it('is deterministic and its digest covers the content', () => {
    const one = buildPlan(kase(), facts, [provider('a', stepsA)]);
    const two = buildPlan(kase(), facts, [provider('a', stepsA)]);
    expect(one.digest).toBe(two.digest);
    expect(planDigest(one)).toBe(one.digest);
    expect(planDigest({ ...one, steps: one.steps.slice(1) })).not.toBe(one.digest);
  });

  it('at low severity marks containment as waiting for approval, and not with approval', () => {
    const low = buildPlan(kase({ severity: 'low' }), facts, [provider('a', stepsA)]);
    expect(low.steps.filter((s) => s.awaitsApproval).map((s) => s.id)).toEqual(['a:contain/x']);
    expect(low.waiting).toHaveLength(1);
    const approved = buildPlan(kase({ severity: 'low', approveContainment: true }), facts, [provider('a', stepsA)]);
    expect(approved.steps.some((s) => s.awaitsApproval)).toBe(false);
  });

  it('--no-contain plans no containment and says so', () => {
    const plan = buildPlan(kase({ contain: false }), facts, [provider('a', stepsA)]);
    expect(plan.steps.some((s) => s.phase === 'contain')).toBe(false);
    expect(plan.limitations.join()).toContain('--no-contain');
  });

  it('applies cross-provider relations (containment of b waits for a collect step of a)', () => {
    const b = provider(
      'b',
      [{ id: 'contain/db', action: 'isolate', phase: 'contain', target: 'b:db', title: 'isolate db', inputs: {} }],
      () => ({ 'b:contain/db': ['a:snap/x'] }),
    );
    const plan = buildPlan(kase(), facts, [provider('a', stepsA), b]);
    expect(plan.steps.find((s) => s.id === 'b:contain/db')!.dependsOn).toEqual(['a:snap/x']);
  });

  it('refuses a dependency cycle', () => {
    const cyc = provider('a', [
      { id: 'one', action: 'x', phase: 'collect', target: 't1', title: '1', inputs: {}, dependsOn: ['two'] },
      { id: 'two', action: 'x', phase: 'collect', target: 't2', title: '2', inputs: {}, dependsOn: ['one'] },
    ]);
    expect(() => buildPlan(kase(), new Map([['a', {}]]), [cyc])).toThrow(/cycle/);
  });
});
