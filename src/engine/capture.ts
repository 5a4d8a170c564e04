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

/**
 * Plan an already validated case. Each engaged provider is discovered once: a provider that claims
 * other providers' findings (core/claims.ts) waits for the finders still to be read, since their
 * findings may widen its targets (a node's machine for ec2, an instance's profile for iam).
 */
export async function planCase(kase: Case, options: PlanOptions = {}): Promise<CapturePlan> {
  const providers = options.providers ?? builtinProviders;
  const env = options.env ?? process.env;
  const clients = await providerClients(kase, env, options.clients ?? {});
  const signal = options.signal ?? new AbortController().signal;
  const run = runScope();
  const progress = progressEmitter(kase.incident, options.onProgress);
  const notice = quietSdkNodeNotice();
  if (notice) progress({ warning: notice });
  const facts = new Map<string, unknown>();
  /** The params each provider was discovered with (the case's own object, so a widened one differs). */
  const discoveredWith = new Map<string, JsonObject>();
  let current = kase;
  for (;;) {
    const targets = current.targets;
    const pending = providers.filter((p) => targets[p.id] && discoveredWith.get(p.id) !== targets[p.id]);
    if (!pending.length) break;
    const finders = pending.filter((p) => p.findings);
    const ready = pending.filter((p) => !p.claims || finders.every((f) => f === p));
    // Finders that claim each other's findings are read together (and again if a finding widens one).
    const round = ready.length ? ready : pending;
    const ctx: ProviderContext = { incident: current.incident, kase: current, signal, clients, env, dryRun: true, run };
    const roleAnnotations = wantedRoleAnnotations(current, providers);
    if (roleAnnotations.length) ctx.roleAnnotations = roleAnnotations;
    progress({ waitingOn: `discovery: reading what ${round.map((p) => p.id).join(', ')} target (read-only calls)` });
    const failure = await discover(round, ctx, facts);
    progress({ done: true });
    for (const p of round) discoveredWith.set(p.id, targets[p.id]!);
    if (failure) {
      // Every provider's problems at once, in one error: read the ones still waiting too.
      const rest = pending.filter((p) => !round.includes(p));
      const more = rest.length ? await discover(rest, ctx, facts) : undefined;
      if (failure.problems.length || more?.problems.length)
        throw new BadInputError([...failure.problems, ...(more?.problems ?? [])]);
      throw failure.other ?? more?.other;
    }
    current = deriveTargets(current, facts, providers) ?? current;
  }
  return buildPlan(current, facts, providers);
}

/** Discover `round` in parallel into `facts`; the input problems and the first other failure, if any. */
async function discover(
  round: readonly Provider[],
  ctx: ProviderContext,
  facts: Map<string, unknown>,
): Promise<{ problems: InputProblem[]; other?: HoldfastError } | undefined> {
  const settled = await Promise.allSettled(round.map((p) => p.discover(ctx.kase.targets[p.id]!, ctx)));
  const problems: InputProblem[] = [];
  let other: HoldfastError | undefined;
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') facts.set(round[i]!.id, result.value);
    else {
      const e = holdfastErrorOf(result.reason);
      if (e instanceof BadInputError) problems.push(...e.problems);
      else other ??= e;
    }
  });
  return problems.length || other ? { problems, ...(other ? { other } : {}) } : undefined;
}

/** A case widened by targets that providers derived from their facts, or undefined when nothing new. */
function deriveTargets(kase: Case, facts: Map<string, unknown>, providers: readonly Provider[]): Case | undefined {
  const targets = { ...kase.targets };
  let changed = false;
  for (const provider of providers) {
    if (!facts.has(provider.id)) continue;
    const own = facts.get(provider.id);
    // The targets other providers claim among its findings.
    const extra = Object.entries(provider.findings ? claimedTargets(provider.findings(own, kase), providers) : {});
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
