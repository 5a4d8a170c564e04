/**
 * Two incidents run at once in one process (what a daemon does) share nothing: each run's memoised
 * state, events, abort and journal stay its own, although both runs are handed the same clients
 * object, the same providers and the same state directory. In process with a fake provider and the
 * in-memory store: the point is the engine's own state, which no emulator can show.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CaptureEvent } from '../../src/core/events.js';
import type { Case, Clients, Provider, StepDraft } from '../../src/core/types.js';
import { checkJournalChain } from '../../src/evidence/journal.js';
import { executePlan } from '../../src/engine/execute.js';
import { IncidentBusyError } from '../../src/index.js';
import { buildPlan } from '../../src/engine/plan.js';
import { memoryStore } from '../support/memory-store.js';

/** How long a step waits at most for the other run to be under way (a deadline, so a bug fails rather than hangs). */
const OVERLAP_DEADLINE_MS = 5_000;

/** What one run's memo holds: built once per run, by the run that first asked. */
interface Shared {
  builtFor: string;
  steps: string[];
}

const draft = (id: string, phase: StepDraft['phase'], target: string): StepDraft => ({
  id,
  action: id.split('/')[0]!,
  phase,
  target,
  title: id,
  inputs: {},
});

const kase = (incident: string): Case => ({
  incident,
  severity: 'high',
  approveContainment: false,
  contain: true,
  forensicCidrs: [],
  store: { kind: 'fs', dir: '/nonexistent' },
  targets: { fake: {} },
});

/** A fake provider: the plan and run given, the rest inert. */
const fakeProvider = (plan: Provider['plan'], run: Provider['run']): Provider => ({
  id: 'fake',
  summary: 'fake',
  flags: [],
  policies: [],
  example: '',
  parseParams: (raw) => ({ params: raw, problems: [] }),
  discover: async () => ({}),
  plan,
  run,
});

describe('two incidents in one process', () => {
  it('keep their memoised state, events, abort and journal apart', async () => {
    const builds: Shared[] = [];
    const inFlight = new Set<string>();
    const stop = new AbortController();
    const provider = fakeProvider(
      (_facts, k) =>
        // Six targets, each preserved, collected and contained; target names carry the incident.
        ({
          steps: Array.from({ length: 6 }, (_, i) => [
            draft(`tag/${k.incident}-t${i}`, 'preserve', `fake:${k.incident}-t${i}`),
            draft(`snap/${k.incident}-t${i}`, 'collect', `fake:${k.incident}-t${i}`),
            draft(`isolate/${k.incident}-t${i}`, 'contain', `fake:${k.incident}-t${i}`),
          ]).flat(),
        }),
      async (step, ctx) => {
        const shared = ctx.run.memo('fake:shared', () => {
          const built = { builtFor: ctx.incident, steps: [] as string[] };
          builds.push(built);
          return built;
        });
        shared.steps.push(step.id);
        inFlight.add(ctx.incident);
        // Both runs under way before either goes on: the overlap is certain, not a race of timers.
        const deadline = Date.now() + OVERLAP_DEADLINE_MS;
        while (inFlight.size < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
        if (ctx.incident === 'IR-ISO-B' && step.id.includes('snap/')) stop.abort('B stopped by its caller');
        await ctx.recordChange({
          resource: step.target,
          attribute: step.action,
          before: 0,
          after: 1,
          reversible: false,
        });
        await new Promise((r) => setTimeout(r, 5));
        return { outputs: { ranIn: ctx.incident } };
      },
    );
    const clients: Clients = {};
    const stateDir = mkdtempSync(join(tmpdir(), 'hf-iso-'));
    const store = memoryStore();
    const capture = (incident: string, signal?: AbortSignal) => {
      const events: CaptureEvent[] = [];
      const plan = buildPlan(kase(incident), new Map([['fake', {}]]), [provider]);
      const outcome = executePlan(plan, {
        providers: [provider],
        clients,
        store,
        stateDir,
        env: {},
        operator: { test: 'isolation' },
        onEvent: (e) => events.push(e),
        ...(signal ? { signal } : {}),
      });
      return outcome.then((o) => ({ outcome: o, events, plan }));
    };
    const [a, b] = await Promise.all([capture('IR-ISO-A'), capture('IR-ISO-B', stop.signal)]);

    // Memo: one build per run, each holding only its own run's steps.
    expect(builds.map((x) => x.builtFor).sort()).toEqual(['IR-ISO-A', 'IR-ISO-B']);
    for (const built of builds) {
      expect(built.steps.length).toBeGreaterThan(0);
      expect(built.steps.every((id) => id.includes(built.builtFor))).toBe(true);
    }
    // Abort: B's caller stopped B; A finished and sealed.
    expect(b.outcome.status).toBe('aborted');
    expect(a.outcome.status).toBe('complete');
    expect(a.outcome.manifest?.steps).toHaveLength(18);
    expect(a.outcome.manifest?.steps.every((s) => s.status === 'done')).toBe(true);
    // Events: each run's listener heard only its own incident, ending with its own end.
    for (const [run, incident] of [
      [a, 'IR-ISO-A'],
      [b, 'IR-ISO-B'],
    ] as const) {
      expect(run.events.length).toBeGreaterThan(0);
      expect(run.events.every((e) => e.incident === incident)).toBe(true);
      expect(run.events.filter((e) => 'stepId' in e).every((e) => String(e.stepId).includes(incident))).toBe(true);
    }
    expect(a.events.at(-1)?.type).toBe('capture.sealed');
    expect(b.events.at(-1)?.type).toBe('capture.aborted');
    // Journals: each file is an intact chain of its own incident's events, its changes its own.
    for (const [run, incident] of [
      [a, 'IR-ISO-A'],
      [b, 'IR-ISO-B'],
    ] as const) {
      const chain = checkJournalChain(readFileSync(run.outcome.journalPath!, 'utf8'));
      expect(chain.ok).toBe(true);
      expect(chain.events.every((e) => e.incident === incident)).toBe(true);
      expect(run.outcome.changes.length).toBeGreaterThan(0);
      expect(run.outcome.changes.every((c) => c.resource.includes(incident))).toBe(true);
      expect(chain.events.map((e) => e.seq)).toEqual(run.events.map((e) => e.seq));
    }
    expect(a.outcome.journalPath).not.toBe(b.outcome.journalPath);
    // The store: each incident's records under its own prefix only.
    const keys = [...store.objects.keys()];
    expect(keys.some((k) => k.startsWith('IR-ISO-A/'))).toBe(true);
    expect(keys.every((k) => k.startsWith('IR-ISO-A/') || k.startsWith('IR-ISO-B/'))).toBe(true);
  });

  it('one incident at a time: a second run of the same incident is refused as busy, by class, and changes nothing', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let runs = 0;
    const provider = fakeProvider(
      () => ({ steps: [draft('tag/t0', 'preserve', 'fake:t0')] }),
      async () => {
        runs++;
        await held;
        return {};
      },
    );
    const plan = buildPlan(kase('IR-ISO-SAME'), new Map([['fake', {}]]), [provider]);
    const options = {
      providers: [provider],
      store: memoryStore(),
      stateDir: mkdtempSync(join(tmpdir(), 'hf-iso-same-')),
      env: {},
      operator: { test: 'isolation' },
    };
    const first = executePlan(plan, options);
    // The first run holds the lock while its step waits.
    while (runs === 0) await new Promise((r) => setTimeout(r, 2));
    await expect(executePlan(plan, options)).rejects.toBeInstanceOf(IncidentBusyError);
    release();
    expect((await first).status).toBe('complete');
    expect(runs).toBe(1);
  });
});
