import { describe, expect, it } from 'vitest';
import type { CaptureEvent } from '../../src/core/events.js';
import { buildSitrep } from '../../src/report/sitrep.js';
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
