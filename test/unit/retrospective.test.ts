import { describe, expect, it } from 'vitest';
import type { CaptureEvent } from '../../src/core/events.js';
import {
  buildRetrospective,
  renderRetrospectiveHtml,
  renderRetrospectiveMarkdown,
} from '../../src/report/retrospective.js';

const planned = [
  { id: 'x:preserve/a', title: 'protect a', phase: 'preserve', target: 'x:a<b>', awaitsApproval: false },
  { id: 'x:isolate/a', title: 'isolate a', phase: 'contain', target: 'x:a<b>', awaitsApproval: false },
  { id: 'x:isolate/b', title: 'isolate b', phase: 'contain', target: 'x:b', awaitsApproval: false },
];

function journal(): CaptureEvent[] {
  let seq = 0;
  const e = (body: Record<string, unknown>, s: number) =>
    ({
      seq: ++seq,
      at: new Date(Date.UTC(2026, 11, 3, 3, 0, s)).toISOString(),
      incident: 'IR-R-1',
      ...body,
    }) as unknown as CaptureEvent;
  return [
    e(
      {
        type: 'capture.started',
        captureId: 'c',
        case: { severity: 'high', commander: 'Ada <ada@x>' },
        plannedSteps: planned,
        steps: 3,
        operator: { osUser: 'ir' },
        tool: { name: 'holdfast', version: '9.9.9' },
        resumed: false,
      },
      0,
    ),
    e({ type: 'step.started', stepId: 'x:preserve/a', attempt: 1, phase: 'preserve', title: 't' }, 1),
    e({ type: 'step.done', stepId: 'x:preserve/a', outputs: {}, limitations: [] }, 2),
    e({ type: 'step.started', stepId: 'x:isolate/a', attempt: 1, phase: 'contain', title: 't' }, 3),
    e(
      {
        type: 'change.recorded',
        stepId: 'x:isolate/a',
        change: {
          id: 'ch1',
          stepId: 'x:isolate/a',
          provider: 'x',
          resource: 'a',
          attribute: 'groups',
          before: ['sg-1'],
          after: ['sg-iso'],
          at: '2026-12-03T03:00:03.500Z',
          reversible: true,
        },
      },
      3,
    ),
    e({ type: 'step.done', stepId: 'x:isolate/a', outputs: {}, limitations: [] }, 4),
    e({ type: 'step.started', stepId: 'x:isolate/b', attempt: 1, phase: 'contain', title: 't' }, 4),
    e({ type: 'step.failed', stepId: 'x:isolate/b', code: 'REMOTE', message: 'denied', retryable: false }, 5),
    e({ type: 'release.started', changes: 1 }, 10),
    e({ type: 'change.released', changeId: 'ch1', resource: 'a', attribute: 'groups', restored: true }, 11),
  ];
}

describe('retrospective report', () => {
  it('one bar per target with the segments it went through; failures as marks; input escaped; no script', () => {
    const r = buildRetrospective('IR-R-1', journal(), '2026-12-03T04:00:00Z');
    expect(r.rows.map((row) => [row.target, row.segments.map((s) => s.segment)])).toEqual([
      ['x:a<b>', ['preserve', 'contain', 'release']],
      ['x:b', ['contain']],
    ]);
    expect(r.marks.filter((m) => m.kind === 'failure')).toHaveLength(1);
    expect(r.actors[0]).toMatchObject({ what: 'capture', who: 'ir@?', tool: 'holdfast 9.9.9' });
    const html = renderRetrospectiveHtml(r);
    expect(html.match(/<g class="target-bar"/g)).toHaveLength(2);
    expect(html).toContain('data-target="x:a&lt;b&gt;"');
    expect(html).toContain('Ada &lt;ada@x&gt;');
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain('<b class="warn">not run</b>');
    const md = renderRetrospectiveMarkdown(r);
    expect(md).toContain('| `a` | groups | `["sg-1"]` | `["sg-iso"]` |');
  });
});
