import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CaptureEventBody } from '../../src/core/events.js';
import { checkJournalChain, Journal } from '../../src/evidence/journal.js';
import { deriveJournalState } from '../../src/evidence/journal-state.js';
import { priorityLimit } from '../../src/engine/priority-limit.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'hf-group-')), 'journal.ndjson');

const change = (stepId: string, n: number): CaptureEventBody => ({
  type: 'change.recorded',
  stepId,
  change: {
    id: `${stepId}/r${n}/a`,
    stepId,
    provider: 'ec2',
    resource: `r${n}`,
    attribute: 'a',
    before: n,
    after: n + 1,
    reversible: true,
    at: '2026-01-01T00:00:00.000Z',
  },
});

describe('Journal group commit', () => {
  it('acknowledges every waiter, in order, only once its line is in the file', async () => {
    const path = tmp();
    const j = Journal.open(path, 'IR-GC-1');
    const acknowledged: number[] = [];
    const waits: Promise<void>[] = [];
    for (let n = 1; n <= 200; n++) {
      const line = j.write(change(`ec2:s/${n % 7}`, n));
      waits.push(
        j.durable().then(() => {
          // The file holds this line (and every line before it) when its waiter hears back.
          const lines = readFileSync(path, 'utf8').split('\n').length - 1;
          expect(lines).toBeGreaterThanOrEqual(line.seq);
          acknowledged.push(line.seq);
        }),
      );
    }
    await Promise.all(waits);
    expect(acknowledged).toEqual([...Array(200).keys()].map((i) => i + 1));
    j.close();
    expect(checkJournalChain(readFileSync(path, 'utf8')).ok).toBe(true);
  });

  it('keeps a running fold equal to folding the whole journal', () => {
    const path = tmp();
    const j = Journal.open(path, 'IR-GC-2');
    j.write({ type: 'step.started', stepId: 'ec2:a', attempt: 1, phase: 'preserve', title: 'a' });
    j.write(change('ec2:a', 1));
    j.write(change('ec2:a', 1));
    j.write({ type: 'capture.limitation', message: 'x' });
    j.write({ type: 'step.done', stepId: 'ec2:a', outputs: { k: 1 }, limitations: ['y', 'x'] });
    const folded = j.fold.state();
    const whole = deriveJournalState(j.events);
    expect(folded.changes).toEqual(whole.changes);
    expect(folded.limitations).toEqual(['x', 'y']);
    expect(whole.limitations).toEqual(['x', 'y']);
    expect(j.fold.recordedBy('ec2:a').changes).toHaveLength(1);
    expect(j.fold.steps.get('ec2:a')?.outputs).toEqual({ k: 1 });
    j.close();
    const reopened = Journal.open(path, 'IR-GC-2');
    expect(reopened.fold.state().changes).toEqual(whole.changes);
    reopened.close();
  });
});

describe('priorityLimit', () => {
  it('runs at most N at once and picks the highest priority waiting task, first come within a priority', async () => {
    const limit = priorityLimit(1);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = limit(0, async () => {
      order.push('first');
      await gate;
    });
    const rest = [
      limit(0, async () => void order.push('low-1')),
      limit(2, async () => void order.push('high-1')),
      limit(0, async () => void order.push('low-2')),
      limit(2, async () => void order.push('high-2')),
      limit(1, async () => void order.push('mid')),
    ];
    release();
    await Promise.all([first, ...rest]);
    expect(order).toEqual(['first', 'high-1', 'high-2', 'mid', 'low-1', 'low-2']);
  });
});
