/** Small pieces every provider needs, in one place: client memoisation and action dispatch. */
import { InternalError } from './errors.js';
import type {
  ChangeRecord,
  PreflightResult,
  ProviderContext,
  ReleaseContext,
  Step,
  StepContext,
  StepOutcome,
} from './types.js';

const built = new WeakMap<object, Map<string, unknown>>();

/**
 * The clients a provider uses for this context: injected ones first (`ctx.clients[id]`: tests,
 * library callers with their own credentials), else built once per context by `build`.
 */
export function clientsFor<C>(ctx: Pick<ProviderContext, 'clients'>, id: string, build: () => C): C {
  const injected = ctx.clients[id] as C | undefined;
  if (injected) return injected;
  let cache = built.get(ctx.clients);
  if (!cache) built.set(ctx.clients, (cache = new Map()));
  if (!cache.has(id)) cache.set(id, build());
  return cache.get(id) as C;
}

/** A provider's `run`: look the step's action up in `runners`. */
export function runByAction(providerId: string, runners: Record<string, (ctx: StepContext) => Promise<StepOutcome>>) {
  return (step: Step, ctx: StepContext): Promise<StepOutcome> => {
    const runner = runners[step.action];
    if (!runner) throw new InternalError(`${providerId} has no action ${step.action}`);
    return runner(ctx);
  };
}

/** The parts of a provider that need its SDK. */
export interface ProviderImplementation<Params, Facts> {
  discover(params: Params, ctx: ProviderContext): Promise<Facts>;
  preflight(step: Step, ctx: ProviderContext): Promise<PreflightResult>;
  run(step: Step, ctx: StepContext): Promise<StepOutcome>;
  release(change: ChangeRecord, ctx: ReleaseContext): Promise<{ restored: boolean; note?: string }>;
}

/**
 * Load a provider's SDK-bound half on first use: SDKs are large (the EC2 client alone is ~90 MB of
 * heap), and a capture should pay only for the providers it engages.
 */
export function lazily<Params, Facts>(
  load: () => Promise<ProviderImplementation<Params, Facts>>,
): ProviderImplementation<Params, Facts> {
  let loaded: Promise<ProviderImplementation<Params, Facts>> | undefined;
  const get = () => (loaded ??= load());
  return {
    discover: async (params, ctx) => (await get()).discover(params, ctx),
    preflight: async (step, ctx) => (await get()).preflight(step, ctx),
    run: async (step, ctx) => (await get()).run(step, ctx),
    release: async (change, ctx) => (await get()).release(change, ctx),
  };
}
