import { describe, expect, it } from 'vitest';
import type { CaptureEvent } from '../../src/core/events.js';
import {
  buildSitrep,
  foldLimitation,
  LIMITATION_LINE_MAX,
  renderSitrepMarkdown,
  renderSitrepText,
} from '../../src/report/sitrep.js';
import {
  isSlackWebhookUrl,
  renderSitrepSlack,
  SLACK_ITEMS_PER_SECTION,
  SLACK_MAX_BLOCKS,
  sitrepSlackMessage,
} from '../../src/report/slack.js';
import { createWebhookNotifier, notifyFormatFor } from '../../src/report/notify.js';
import { phaseTimings } from '../../src/drill/run-drill.js';

const planned = [
  { id: 'ec2:preserve/i-1', title: 'protect i-1', phase: 'preserve', target: 'ec2:i-1', awaitsApproval: false },
  {
    id: 'ec2:isolation-group/vpc-1',
    title: 'find or create the convert and isolation groups in vpc-1',
    phase: 'contain',
    target: 'ec2:vpc:vpc-1',
    awaitsApproval: false,
  },
  {
    id: 'ec2:isolate/i-1',
    title: 'isolate every interface of i-1',
    phase: 'contain',
    target: 'ec2:i-1',
    awaitsApproval: false,
  },
];

function journal(store?: Record<string, unknown>): CaptureEvent[] {
  let seq = 0;
  const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 3, 0, s)).toISOString();
  const e = (body: Record<string, unknown>, s: number) =>
    ({ seq: ++seq, at: at(s), incident: 'IR-T-1', ...body }) as unknown as CaptureEvent;
  const done = (stepId: string, phase: string, s: number) => [
    e({ type: 'step.started', stepId, attempt: 1, phase, title: stepId }, s),
    e({ type: 'step.done', stepId, outputs: {}, limitations: [] }, s + 1),
  ];
  return [
    e(
      {
        type: 'capture.started',
        captureId: 'c',
        case: { severity: 'high', ...(store ? { store } : {}) },
        plannedSteps: planned,
        steps: 3,
      },
      0,
    ),
    ...done('ec2:preserve/i-1', 'preserve', 1),
    ...done('ec2:isolation-group/vpc-1', 'contain', 3),
    ...done('ec2:isolate/i-1', 'contain', 5),
    e({ type: 'capture.finished', status: 'complete', failed: 0, waiting: 0 }, 7),
    e(
      {
        type: 'capture.sealed',
        status: 'complete',
        manifestKey: 'IR-T-1/manifest.json',
        manifestSha256: 'x',
        journalKey: 'j',
      },
      10,
    ),
  ];
}

describe('sitrep', () => {
  it('lists what holds each named target cut off, not the shared isolation-group plumbing', () => {
    const sitrep = buildSitrep('IR-T-1', journal(), '2026-12-03T03:01:00Z');
    expect(sitrep.status).toBe('contained');
    expect(sitrep.contained).toEqual(['isolate every interface of i-1']);
  });
});

describe('sitrep manifest', () => {
  it('names the sealed manifest as a responder opens it: an absolute path or a full s3:// URI', () => {
    const at = '2026-12-03T03:01:00Z';
    expect(buildSitrep('IR-T-1', journal({ kind: 'fs', dir: '/srv/es' }), at).manifest).toBe(
      '/srv/es/IR-T-1/manifest.json',
    );
    const s3 = { kind: 's3', bucket: 'ir-evidence', prefix: 'cases' };
    expect(buildSitrep('IR-T-1', journal(s3), at).manifest).toBe('s3://ir-evidence/cases/IR-T-1/manifest.json');
  });
});

describe('drill phase timings', () => {
  it('include seal, from capture.finished to capture.sealed', () => {
    expect(phaseTimings(journal())).toEqual([
      { phase: 'preserve', ms: 1000 },
      { phase: 'contain', ms: 3000 },
      { phase: 'seal', ms: 3000 },
    ]);
  });
});

describe('sitrep formats', () => {
  const at = '2026-12-03T03:01:00Z';
  const withRoles = (extra: Record<string, unknown>[] = []) => {
    const events = journal();
    let seq = events.length;
    return [
      ...events,
      ...extra.map(
        (body) =>
          ({ seq: ++seq, at: '2026-12-03T03:00:20.000Z', incident: 'IR-T-1', ...body }) as unknown as CaptureEvent,
      ),
    ];
  };

  it('folds each limitation to one line, its first clause, at most LIMITATION_LINE_MAX characters', () => {
    expect(
      foldLimitation(
        'security groups do not cut every flow at once: ICMP and flows through NAT gateways, load balancers and Gateway Load Balancer endpoints may continue',
      ),
    ).toBe('security groups do not cut every flow at once');
    const long = `a${' word'.repeat(60)}`;
    expect(foldLimitation(long)).toHaveLength(LIMITATION_LINE_MAX);
    expect(foldLimitation(long).endsWith('…')).toBe(true);
    expect(foldLimitation('short: kept whole')).toBe('short: kept whole');
  });

  it('folds roles in order: an IC hand-over names both; responders join once', () => {
    const events = withRoles([
      { type: 'roles.recorded', commander: 'Ada', responders: ['Grace'], takeOver: false, by: {} },
      {
        type: 'roles.recorded',
        commander: 'Kat',
        responders: ['Grace', 'Alan'],
        takeOver: true,
        previousCommander: 'Ada',
        by: {},
      },
    ]);
    const s = buildSitrep('IR-T-1', events, at, { kind: 'hand-over' });
    expect(s.commander).toBe('Kat');
    expect(s.responders).toEqual(['Grace', 'Alan']);
    expect(s.subject).toBe('[HIGH] IR-T-1 — IC hand-over Ada → Kat: 0 artifacts, 0 failures');
    expect(renderSitrepText(s)).toContain('Incident Commander duties pass from Ada to Kat');
  });

  it('a false alarm is the final sitrep and says to lift what is still contained', () => {
    const s = buildSitrep('IR-T-1', withRoles([{ type: 'incident.false-alarm', by: {} }]), at);
    expect(s.kind).toBe('false-alarm');
    expect(s.status).toBe('false-alarm');
    expect(s.nextSteps.join('\n')).toContain('evidence release --incident ID --approve');
  });

  it('Slack: names are escaped for the API, headers and blocks stay within Slack limits, long lists are cut', () => {
    const many = Array.from({ length: 400 }, (_, i) => ({
      type: 'capture.limitation',
      message: `limitation <${i}> & more: detail`,
    }));
    const events = withRoles([
      { type: 'roles.recorded', commander: 'Eve <eve@example.org> & co', responders: [], takeOver: false, by: {} },
      ...many,
    ]);
    const s = buildSitrep('IR-T-1', events, at);
    const message = sitrepSlackMessage(s);
    expect(message.text).toContain('*Incident Commander:* Eve &lt;eve@example.org&gt; &amp; co');
    expect(message.text).not.toMatch(/<eve/);
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_MAX_BLOCKS);
    const header = message.blocks[0] as { type: string; text: { text: string } };
    expect(header.type).toBe('header');
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    for (const b of message.blocks)
      if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    expect(message.text).toContain(`_… and ${400 - SLACK_ITEMS_PER_SECTION} more_`);
    // Pasted (typed into Slack, not posted): not escaped.
    expect(renderSitrepSlack(s)).toContain('*Incident Commander:* Eve <eve@example.org> & co');
    // Markdown for tickets escapes markup characters a name may carry.
    expect(renderSitrepMarkdown(s)).toContain('**Incident Commander:** Eve \\<eve@example.org\\> & co');
  });

  it('webhooks: Slack incoming-webhook URLs get Slack’s shape, others JSON, unless --notify-format says', async () => {
    expect(isSlackWebhookUrl('https://hooks.slack.com/services/T0/B0/x')).toBe(true);
    expect(isSlackWebhookUrl('http://hooks.slack.com/services/T0/B0/x')).toBe(false);
    expect(isSlackWebhookUrl('https://hooks.slack.com.evil.example/x')).toBe(false);
    expect(notifyFormatFor('https://hooks.slack.com/services/T0/B0/x')).toBe('slack');
    expect(notifyFormatFor('https://chat.example/hook')).toBe('json');
    expect(notifyFormatFor('https://chat.example/hook', 'slack')).toBe('slack');
    const bodies: unknown[] = [];
    const post = (async (_url: string, init: { body: string }) => {
      bodies.push(JSON.parse(init.body));
      return new Response('ok');
    }) as unknown as typeof fetch;
    const sitrep = buildSitrep('IR-T-1', journal(), at);
    const slack = createWebhookNotifier('https://hooks.slack.com/services/T0/B0/x', { post });
    await slack.finish({ json: { type: 'sitrep' }, sitrep, note: 'Release complete.' });
    expect(bodies[0]).toMatchObject({ text: expect.stringContaining('Release complete.'), blocks: expect.any(Array) });
    const json = createWebhookNotifier('https://chat.example/hook', { post });
    await json.finish({ json: { type: 'sitrep', status: 'complete' }, sitrep });
    expect(bodies[1]).toEqual({ type: 'sitrep', status: 'complete' });
  });
});
