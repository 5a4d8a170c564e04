/**
 * The engine's scheduler in process: a fake provider whose steps only record what happened, and an
 * in-memory store (test/support/memory-store.ts). No server: these are the engine's own rules —
 * dependencies, the concurrency limit, retries, abort and resume — which no emulator can exercise.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/core/errors.js';
import type { CaptureEvent } from '../../src/core/events.js';
import type { Case, Provider, StepContext, StepDraft } from '../../src/core/types.js';
import { executePlan } from '../../src/engine/execute.js';
import { buildPlan } from '../../src/engine/plan.js';
import { memoryStore } from '../support/memory-store.js';

/** What the fake provider saw, in order, and how many steps ran at once at most. */
interface Trace {
  order: string[];
  running: number;
  maxRunning: number;
}

/** How long a step waits at most for its `waitFor` condition. */
const WAIT_DEADLINE_MS = 5_000;

interface Behaviour {
  /** Milliseconds each run takes (a timer, so runs overlap). */
  ms?: number;
  /**
   * Before finishing, wait (up to a generous deadline, so a wrong scheduler fails rather than hangs)
   * until this holds: makes overlap deterministic on a loaded machine instead of a race of timers.
   */
  waitFor?: (stepId: string, trace: Trace) => boolean;
  /** Throw a retryable RemoteError this many times per step before succeeding. */
  flaky?: Record<string, number>;
  /** Throw a non-retryable error for these steps. */
  broken?: string[];
  /** Called when a step starts (e.g. to abort the capture). */
  onStart?: (stepId: string) => void;
  /** What the step records, before it finishes. */
  act?: (stepId: string, ctx: StepContext) => Promise<void>;
}

function fakeProvider(drafts: StepDraft[], trace: Trace, behaviour: Behaviour = {}): Provider {
  const attempts = new Map<string, number>();
  return {
    id: 'fake',
    summary: 'fake',
    flags: [],
    policies: [],
    example: '',
    parseParams: (raw) => ({ params: raw, problems: [] }),
    discover: async () => ({}),
    plan: () => ({ steps: drafts }),
    run: async (step, ctx) => {
      const n = (attempts.get(step.id) ?? 0) + 1;
      attempts.set(step.id, n);
      trace.order.push(`start ${step.id}`);
      trace.running++;
      trace.maxRunning = Math.max(trace.maxRunning, trace.running);
      behaviour.onStart?.(step.id);
      try {
        const deadline = Date.now() + WAIT_DEADLINE_MS;
        while (behaviour.waitFor && !behaviour.waitFor(step.id, trace) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 2));
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, behaviour.ms ?? 5);
          ctx.signal.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('aborted'))), {
            once: true,
          });
        });
        if (n <= (behaviour.flaky?.[step.id] ?? 0)) throw new RemoteError(`throttled (${n})`, true);
        if (behaviour.broken?.includes(step.id)) throw new RemoteError('refused', false);
        await behaviour.act?.(step.id, ctx);
        return { outputs: { attempt: n } };
      } finally {
        trace.running--;
        trace.order.push(`end ${step.id}`);
      }
    },
  };
}

const kase: Case = {
  incident: 'IR-SCHED-1',
  severity: 'high',
  approveContainment: false,
  contain: true,
  forensicCidrs: [],
  store: { kind: 'fs', dir: '/nonexistent' },
  targets: { fake: {} },
};

const draft = (id: string, phase: StepDraft['phase'], target: string): StepDraft => ({
  id,
  action: id.split('/')[0]!,
  phase,
  target,
  title: id,
  inputs: {},
});

/** Six targets, each with a preserve, collect and contain step. */
const fleet = (n = 6): StepDraft[] =>
  Array.from({ length: n }, (_, i) => [
    draft(`tag/t${i}`, 'preserve', `fake:t${i}`),
    draft(`snap/t${i}`, 'collect', `fake:t${i}`),
    draft(`isolate/t${i}`, 'contain', `fake:t${i}`),
  ]).flat();

async function run(
  drafts: StepDraft[],
  behaviour: Behaviour = {},
  options: { concurrency?: number; stateDir?: string; signal?: AbortSignal; incident?: string } = {},
) {
  const trace: Trace = { order: [], running: 0, maxRunning: 0 };
  const provider = fakeProvider(drafts, trace, behaviour);
  const plan = buildPlan({ ...kase, incident: options.incident ?? kase.incident }, new Map([['fake', {}]]), [provider]);
  const events: CaptureEvent[] = [];
  const outcome = await executePlan(plan, {
    providers: [provider],
    store: memoryStore(),
    stateDir: options.stateDir ?? mkdtempSync(join(tmpdir(), 'hf-sched-')),
    operator: { test: 'scheduler' },
    env: {},
    retry: { maxAttempts: 3, baseDelayMs: 1 },
    onEvent: (e) => events.push(e),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { outcome, trace, events };
}

describe('scheduler (in process: fake provider, in-memory store)', () => {
  it('runs a step only after the earlier phases of its own target, not of other targets', async () => {
    // t0's tagging finishes only once t1 and t2 are isolated: a scheduler that made them wait for t0
    // would let the deadline pass and break the order asserted below.
    const isolatedOthers = (id: string, t: Trace) =>
      id !== 'fake:tag/t0' || ['fake:isolate/t1', 'fake:isolate/t2'].every((s) => t.order.includes(`end ${s}`));
    const { outcome, trace } = await run(fleet(3), { ms: 5, waitFor: isolatedOthers });
    expect(outcome.status).toBe('complete');
    const at = (what: string) => trace.order.indexOf(what);
    for (let i = 0; i < 3; i++) {
      expect(at(`start fake:snap/t${i}`)).toBeGreaterThan(at(`end fake:tag/t${i}`));
      expect(at(`start fake:isolate/t${i}`)).toBeGreaterThan(at(`end fake:snap/t${i}`));
    }
    // Targets do not wait for each other: t1 and t2 are collected and isolated while t0 is still being tagged.
    for (const i of [1, 2]) expect(at(`end fake:isolate/t${i}`)).toBeLessThan(at('end fake:tag/t0'));
    expect(trace.order).toHaveLength(18);
  });

  it('never runs more steps at once than the concurrency limit, and does use it', async () => {
    // Each step waits (up to the deadline) for the limit to be reached, so "does use it" is no race.
    const full = (limit: number) => (_: string, t: Trace) => t.maxRunning >= limit;
    const two = await run(fleet(6), { ms: 5, waitFor: full(2) }, { concurrency: 2 });
    expect(two.outcome.status).toBe('complete');
    expect(two.trace.maxRunning).toBe(2);
    const four = await run(fleet(6), { ms: 5, waitFor: full(4) }, { concurrency: 4 });
    expect(four.outcome.status).toBe('complete');
    expect(four.trace.maxRunning).toBe(4);
  });

  it('retries a retryable failure with a journaled retry event, and fails a permanent one without retrying', async () => {
    const { outcome, events } = await run(fleet(2), {
      flaky: { 'fake:snap/t0': 2 },
      broken: ['fake:snap/t1'],
    });
    expect(outcome.status).toBe('partial');
    const retries = events.filter((e) => e.type === 'step.retry');
    expect(retries.map((e) => e.type === 'step.retry' && e.stepId)).toEqual(['fake:snap/t0', 'fake:snap/t0']);
    // The refused step is a failure; its dependent is listed too, as not run because of it.
    expect(outcome.failures.map((f) => f.stepId).sort()).toEqual(['fake:isolate/t1', 'fake:snap/t1']);
    const skipped = events.find((e) => e.type === 'step.skipped' && e.stepId === 'fake:isolate/t1');
    expect(skipped).toMatchObject({ reason: 'dependency-failed' });
    const starts = (id: string) => events.filter((e) => e.type === 'step.started' && e.stepId === id).length;
    expect(starts('fake:snap/t0')).toBe(3);
    expect(starts('fake:snap/t1')).toBe(1);
    // A failed step's dependents do not run; the other target's do.
    expect(starts('fake:isolate/t1')).toBe(0);
    expect(starts('fake:isolate/t0')).toBe(1);
  });

  it('stops when aborted, and a second run resumes: finished steps are not run again', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hf-sched-resume-'));
    const incident = 'IR-SCHED-2';
    const abort = new AbortController();
    const first = await run(
      fleet(2),
      { ms: 10, onStart: (id) => id === 'fake:snap/t1' && abort.abort() },
      { stateDir, incident, signal: abort.signal, concurrency: 1 },
    );
    expect(first.outcome.status).toBe('aborted');
    const ranFirst = first.trace.order.filter((o) => o.startsWith('end ')).map((o) => o.slice(4));
    expect(ranFirst).toContain('fake:tag/t0');
    expect(first.trace.order).not.toContain('start fake:isolate/t1');

    const second = await run(fleet(2), { ms: 1 }, { stateDir, incident });
    expect(second.outcome.status).toBe('complete');
    const ranSecond = second.trace.order.filter((o) => o.startsWith('start ')).map((o) => o.slice(6));
    const doneFirst = first.events.filter((e) => e.type === 'step.done').map((e) => e.type === 'step.done' && e.stepId);
    expect(doneFirst.length).toBeGreaterThan(0);
    for (const id of doneFirst) expect(ranSecond).not.toContain(id);
    expect([...doneFirst, ...ranSecond].sort()).toEqual(
      fleet(2)
        .map((d) => `fake:${d.id}`)
        .sort(),
    );
  });

  it('a run fenced by a lease journals its generation and writes nothing once the lease is lost', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hf-sched-fence-'));
    const incident = 'IR-SCHED-FENCE';
    let lost = false;
    const trace: Trace = { order: [], running: 0, maxRunning: 0 };
    const provider = fakeProvider(fleet(2), trace, { ms: 5, onStart: (id) => id === 'fake:snap/t1' && (lost = true) });
    const plan = buildPlan({ ...kase, incident }, new Map([['fake', {}]]), [provider]);
    const run = executePlan(plan, {
      providers: [provider],
      store: memoryStore(),
      stateDir,
      operator: { test: 'fence' },
      env: {},
      concurrency: 1,
      fence: {
        holder: 'replica-a',
        generation: 7,
        assertHeld: () => {
          if (lost) throw new Error('the lease was taken over');
        },
      },
    });
    await expect(run).rejects.toThrow('the lease was taken over');
    const lines = readFileSync(join(stateDir, incident, 'journal.ndjson'), 'utf8')
      .trim()
      .split('\n');
    const events = lines.map((l) => JSON.parse(l) as CaptureEvent);
    expect(events[0]).toMatchObject({ type: 'capture.started', lease: { holder: 'replica-a', generation: 7 } });
    // The last line written is snap/t1's start: its result, and everything after, was refused.
    expect(events.at(-1)).toMatchObject({ type: 'step.started', stepId: 'fake:snap/t1' });
    expect(events.some((e) => e.type === 'capture.sealed' || e.type === 'capture.finished')).toBe(false);
  });

  it("a later step adds to an earlier step's artifact method (journaled as the artifact recorded again), never changes it", async () => {
    const { outcome, events } = await run(
      [
        draft('snap/t0', 'collect', 'fake:t0'),
        { ...draft('hash/t0', 'settle', 'fake:t0'), dependsOn: ['snap/t0'] },
        { ...draft('rehash/t0', 'settle', 'fake:t0'), dependsOn: ['hash/t0'] },
      ],
      {
        act: async (id, ctx) => {
          if (id === 'fake:snap/t0')
            ctx.recordArtifact({
              name: 'snap-1',
              type: 'ebs-snapshot',
              source: {},
              acquiredAt: '2026-12-03T00:00:00.000Z',
              location: { snapshotId: 'snap-1' },
              method: { api: 'CreateSnapshots' },
            });
          if (id === 'fake:hash/t0')
            await ctx.amendArtifactMethod('fake:snap/t0/snap-1', { imageSha256: 'a'.repeat(64) });
          if (id === 'fake:rehash/t0')
            await ctx.amendArtifactMethod('fake:snap/t0/snap-1', { imageSha256: 'b'.repeat(64) });
        },
      },
    );
    expect(outcome.artifacts).toEqual([
      expect.objectContaining({
        id: 'fake:snap/t0/snap-1',
        stepId: 'fake:snap/t0',
        method: { api: 'CreateSnapshots', imageSha256: 'a'.repeat(64) },
      }),
    ]);
    expect(events.filter((e) => e.type === 'artifact.recorded').map((e) => e.stepId)).toEqual([
      'fake:snap/t0',
      'fake:hash/t0',
    ]);
    expect(outcome.failures).toEqual([
      expect.objectContaining({
        stepId: 'fake:rehash/t0',
        message: expect.stringContaining('already records imageSha256 differently'),
      }),
    ]);
  });
});
