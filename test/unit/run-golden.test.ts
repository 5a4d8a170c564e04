/**
 * Golden files for whole runs: for each case in fixtures/run-golden/cases.ts the plan (its canonical
 * JSON and digest), then a capture by the engine with scripted providers (the real planners; steps
 * that record a change, an intent, a streamed artifact and a platform artifact, per phase, as real
 * runners do; some fail), then a release where the case asks for one. What is compared is the
 * canonical plan, the manifest the engine sealed, every journal line, the release record and the
 * store's keys, byte for byte, with the clock frozen. Only what a run cannot repeat is replaced by
 * a placeholder: the random capture id, the tool's versions (Node differs in CI), and the hashes
 * and key suffixes computed over them (journal line hashes, copies, manifest and record digests).
 * `UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/run-golden.test.ts` rewrites the files;
 * review the diff.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RemoteError } from '../../src/core/errors.js';
import type { CapturePlan, Json, Provider, StepContext } from '../../src/core/types.js';
import { canonicalJson, sha256Hex } from '../../src/evidence/canonical-json.js';
import { checkJournalChain } from '../../src/evidence/journal.js';
import { executePlan } from '../../src/engine/execute.js';
import { buildPlan } from '../../src/engine/plan.js';
import { builtinProviders } from '../../src/engine/registry.js';
import { releaseContainment } from '../../src/engine/release.js';
import { memoryStore, type MemoryStore } from '../support/memory-store.js';
import { GOLDEN_CASES, type GoldenCase } from './fixtures/run-golden/cases.js';

const GOLDEN_DIR = new URL('./fixtures/run-golden/', import.meta.url);
const FROZEN_AT = new Date('2026-06-01T12:00:00.000Z');
const OPERATOR = { osUser: 'examiner', host: 'forensics-1' };

/** A provider with the real planner whose steps only record, deterministically, what a real runner would. */
function scripted(provider: Provider, fail: readonly string[]): Provider {
  const { preflight: _preflight, release: _release, ...planner } = provider;
  return {
    ...planner,
    run: async (step, ctx: StepContext) => {
      const limitations: string[] = [];
      await ctx.recordIntent({ action: step.action, target: step.target });
      if (step.phase === 'preserve')
        await ctx.recordChange({
          resource: step.target,
          attribute: step.action,
          before: false,
          after: true,
          reversible: false,
        });
      if (step.phase === 'collect') {
        await ctx.putArtifact(
          {
            name: `${step.action}.bin`,
            type: `${step.provider}-${step.action}`,
            source: { target: step.target },
            acquiredAt: new Date().toISOString(),
            method: { scripted: true },
            contentType: 'application/octet-stream',
          },
          Buffer.from(`bytes of ${step.id}\n`),
        );
        ctx.recordArtifact({
          name: 'platform',
          type: `${step.provider}-snapshot`,
          source: { target: step.target },
          acquiredAt: new Date().toISOString(),
          location: { platform: step.provider, id: `snap-${step.id}` },
          method: { api: 'scripted' },
        });
        limitations.push(`${step.target}: scripted ${step.action} reads no memory`);
      }
      if (step.phase === 'contain')
        await ctx.recordChange({
          resource: step.target,
          attribute: step.action,
          before: ['before'],
          after: ['after'],
          reversible: true,
        });
      if (step.phase === 'settle') ctx.progress(`settled ${step.target}`, { polls: 1 });
      if (fail.includes(step.id)) throw new RemoteError(`${step.id}: refused by the scripted cloud`, false);
      return { outputs: { ran: step.id }, limitations, ...(step.phase === 'contain' ? { note: 'contained' } : {}) };
    },
    release: { one: async (change) => ({ restored: true, note: `restored ${change.attribute}` }) },
  };
}

/** Replaces what a run cannot repeat (see the module comment), consistently across one case's texts. */
class Normaliser {
  private readonly names = new Map<string, string>();
  constructor(private readonly volatile: readonly string[]) {}
  text(value: string): string {
    let out = value;
    for (const v of this.volatile) {
      if (!this.names.has(v)) this.names.set(v, `<volatile-${this.names.size + 1}>`);
      const name = this.names.get(v)!;
      out = out.split(v).join(name);
      // Keys carry the first 12 hex digits of a hash.
      if (/^[0-9a-f]{64}$/.test(v)) out = out.split(v.slice(0, 12)).join(`${name.slice(0, -1)}:12>`);
    }
    return out;
  }
  json(value: unknown): Json {
    return sortCopies(JSON.parse(this.text(JSON.stringify(value)))) as Json;
  }
  /** Canonical JSON of a record, normalised. */
  canonical(value: unknown): string {
    return canonicalJson(this.json(value));
  }
}

/** Journal copies are listed by key, and keys carry hashes: listed by their normalised key instead. */
function sortCopies(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortCopies);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === 'copies' && Array.isArray(v)
        ? [...(v as { key: string }[])].sort((a, b) => (a.key < b.key ? -1 : 1))
        : sortCopies(v),
    ]),
  );
}

/** The tool record (Node and dependency versions) replaced wherever an object carries it. */
function withoutTool(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTool);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'tool' && v && typeof v === 'object' ? '<tool>' : withoutTool(v)]),
  );
}

async function runCase(c: GoldenCase): Promise<{ golden: string; plan: CapturePlan }> {
  const fail = c.fail ?? [];
  const providers = builtinProviders.map((p) => scripted(p, fail));
  const plan = buildPlan(c.kase, new Map(Object.entries(c.facts)), providers);
  for (const id of fail)
    expect(
      plan.steps.map((s) => s.id),
      `${c.name} fails ${id}`,
    ).toContain(id);
  const stateDir = mkdtempSync(join(tmpdir(), `holdfast-golden-${c.name}-`));
  const store: MemoryStore = memoryStore();
  const common = { providers, store, stateDir, env: {} };
  const outcome = await executePlan(plan, { ...common, operator: OPERATOR, concurrency: 1 });
  const release = c.release ? await releaseContainment({ ...common, incident: plan.incident }) : undefined;

  const journal = checkJournalChain(readFileSync(outcome.journalPath!, 'utf8'));
  expect(journal.ok, journal.problems.join('\n')).toBe(true);
  const records = [...store.objects].filter(([key]) => !key.includes('/artifacts/'));
  const normal = new Normaliser([
    outcome.captureId,
    ...journal.events.map((e) => sha256Hex(canonicalJson(e))),
    ...records.map(([, bytes]) => sha256Hex(bytes)),
  ]);
  const manifestText = outcome.manifestKey ? store.objects.get(outcome.manifestKey)!.toString('utf8') : null;
  const recordKey = [...store.objects.keys()].find((k) => k.includes('/release/') && !k.endsWith('.sig.json'));
  const golden = {
    case: c.name,
    planDigest: plan.digest,
    plan: canonicalJson(plan),
    outcome: normal.json(
      withoutTool({
        status: outcome.status,
        failures: outcome.failures,
        waiting: outcome.waiting,
        limitations: outcome.limitations,
        manifestKey: outcome.manifestKey,
        manifestSha256: outcome.manifestSha256,
      }),
    ),
    manifest: manifestText && normal.canonical(withoutTool(JSON.parse(manifestText))),
    journal: journal.events.map((e) => normal.canonical(withoutTool(e))),
    release: release ? normal.json({ ...release, journalPath: '<state-dir>' }) : null,
    releaseRecord: recordKey ? normal.canonical(JSON.parse(store.objects.get(recordKey)!.toString('utf8'))) : null,
    storeKeys: [...store.objects.keys()].map((k) => normal.text(k)).sort(),
  };
  return { golden: `${JSON.stringify(golden, null, 2)}\n`, plan };
}

describe('runs are byte-identical to their golden files (plans, manifests, journals, release records)', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: FROZEN_AT });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it('covers each provider at high severity, some at low, and a mixed case', () => {
    const names = GOLDEN_CASES.map((c) => c.name);
    for (const p of ['ec2', 'rds', 'dump', 'iam', 'kubernetes'])
      expect(GOLDEN_CASES.some((c) => Object.keys(c.facts).length === 1 && c.facts[p])).toBe(true);
    expect(names).toEqual(expect.arrayContaining(['ec2-low', 'kubernetes-low', 'mixed-high']));
  });

  for (const c of GOLDEN_CASES)
    it(`${c.name}`, async () => {
      const { golden, plan } = await runCase(c);
      // The plan's digest is its canonical body's, as `apply` checks it.
      const { digest: _digest, ...body } = plan;
      expect(sha256Hex(canonicalJson(body))).toBe(plan.digest);
      const file = new URL(`${c.name}.json`, GOLDEN_DIR);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, golden);
      expect(golden).toBe(readFileSync(file, 'utf8'));
    });
});
