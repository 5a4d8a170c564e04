/**
 * `planCapture`: validate the case, discover read-only what each engaged provider targets, and
 * build the plan. All input problems, including unknown targets, surface before any change.
 */
import { parseCase, type CaseInput } from './case.js';
import { BadInputError, HoldfastError, type InputProblem } from '../core/errors.js';
import { buildPlan } from './plan.js';
import { claimedTargets, wantedRoleAnnotations } from './claims.js';
import { builtinProviders, holdfastErrorOf, providerClients } from './registry.js';
import { runScope } from './run-scope.js';
import { progressEmitter, type ProgressEvent } from '../core/events.js';
import { quietSdkNodeNotice } from '../aws/config.js';
import type { Case, CapturePlan, Clients, JsonObject, Provider, ProviderContext } from '../core/types.js';

export interface PlanOptions {
  providers?: readonly Provider[];
  clients?: Clients;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  cwd?: string;
  /** Live progress while discovery reads (the first AWS call also looks up credentials). */
  onProgress?: (progress: ProgressEvent) => void;
}

/** Parse a case input and plan it (discovery reads; nothing changes). */
export async function planCapture(input: CaseInput, options: PlanOptions = {}): Promise<CapturePlan> {
  const providers = options.providers ?? builtinProviders;
  const kase = parseCase(input, providers, options.cwd ? { cwd: options.cwd } : {});
  return planCase(kase, options);
}

/** Plan an already validated case. */
export async function planCase(kase: Case, options: PlanOptions = {}): Promise<CapturePlan> {
  const providers = options.providers ?? builtinProviders;
  const ctx: ProviderContext = {
    incident: kase.incident,
    kase,
    signal: options.signal ?? new AbortController().signal,
    clients: await providerClients(kase, options.env ?? process.env, options.clients ?? {}),
    env: options.env ?? process.env,
    dryRun: true,
    run: runScope(),
  };
  const roleAnnotations = wantedRoleAnnotations(kase, providers);
  if (roleAnnotations.length) ctx.roleAnnotations = roleAnnotations;
  const engaged = providers.filter((p) => kase.targets[p.id]);
  const progress = progressEmitter(kase.incident, options.onProgress);
  const notice = quietSdkNodeNotice();
  if (notice) progress({ warning: notice });
  progress({ waitingOn: `discovery: reading what ${engaged.map((p) => p.id).join(', ')} target (read-only calls)` });
  const settled = await Promise.allSettled(engaged.map((p) => p.discover(kase.targets[p.id]!, ctx)));
  progress({ done: true });
  const facts = new Map<string, unknown>();
  const inputProblems: InputProblem[] = [];
  let other: HoldfastError | undefined;
  settled.forEach((result, i) => {
    const provider = engaged[i]!;
    if (result.status === 'fulfilled') facts.set(provider.id, result.value);
    else {
      const e = holdfastErrorOf(result.reason);
      if (e instanceof BadInputError) inputProblems.push(...e.problems);
      else other ??= e;
    }
  });
  // Every provider's problems at once, in one error.
  if (inputProblems.length) throw new BadInputError(inputProblems);
  if (other) throw other;
  const derived = deriveTargets(kase, facts, providers);
  if (derived) return planCase(derived, options);
  return buildPlan(kase, facts, providers);
}

/** A case widened by targets that providers derived from their facts, or undefined when nothing new. */
function deriveTargets(kase: Case, facts: Map<string, unknown>, providers: readonly Provider[]): Case | undefined {
  const targets = { ...kase.targets };
  let changed = false;
  for (const provider of providers) {
    if (!facts.has(provider.id)) continue;
    const own = facts.get(provider.id);
    // Targets it names itself, then those other providers claim among its findings.
    const extra = [
      ...Object.entries(provider.derivedTargets?.(own, kase) ?? {}),
      ...Object.entries(provider.findings ? claimedTargets(provider.findings(own, kase), providers) : {}),
    ];
    for (const [id, params] of extra) {
      const other = providers.find((p) => p.id === id);
      if (!other) continue;
      const merged = mergeParams(targets[id], params);
      const parsed = other.parseParams(merged);
      if (!parsed.params || JSON.stringify(parsed.params) === JSON.stringify(targets[id])) continue;
      targets[id] = parsed.params;
      changed = true;
    }
  }
  return changed ? { ...kase, targets } : undefined;
}

function mergeParams(current: JsonObject | undefined, extra: JsonObject): JsonObject {
  const out: JsonObject = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(extra)) {
    out[k] =
      Array.isArray(v) && Array.isArray(out[k]) ? [...new Set([...(out[k] as string[]), ...(v as string[])])] : v;
  }
  return out;
}
