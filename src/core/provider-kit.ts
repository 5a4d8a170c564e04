/** Small pieces every provider needs, in one place: client memoisation, action dispatch and reading params. */
import { InternalError, valueProblem, type InputProblem } from './errors.js';
import type {
  ActionSpec,
  ChangeRecord,
  Clients,
  JsonObject,
  PreflightResult,
  ProviderContext,
  ReleaseCapability,
  ReleaseContext,
  Step,
  StepContext,
  StepOf,
  StepOutcome,
} from './types.js';

/**
 * The clients a provider uses for this context: injected ones first (`ctx.clients[id]`: tests,
 * library callers with their own credentials), else built once per run by `build`.
 */
export function clientsFor<Id extends keyof Clients>(
  ctx: Pick<ProviderContext, 'clients' | 'run'>,
  id: Id,
  build: () => NonNullable<Clients[Id]>,
): NonNullable<Clients[Id]> {
  return ctx.clients[id] ?? ctx.run.memo(`clients:${String(id)}`, build);
}

/** A provider's runners, one per action; each gets a context whose step is narrowed to its action. */
export type Runners<Spec extends ActionSpec> = {
  [A in keyof Spec & string]: (ctx: StepContext<StepOf<Spec, A>>) => Promise<StepOutcome<Spec[A]['outputs']>>;
};

/** A provider's `run`: look the step's action up in `runners` and hand it the narrowed step. */
export function runByAction<Spec extends ActionSpec>(providerId: string, runners: Runners<Spec>) {
  return <A extends keyof Spec & string>(step: StepOf<Spec, A>, ctx: StepContext): Promise<StepOutcome> => {
    // A saved plan is JSON: its action is checked here, where the union meets the data.
    if (!Object.hasOwn(runners, step.action)) throw new InternalError(`${providerId} has no action ${step.action}`);
    const runner: Runners<Spec>[A] = runners[step.action];
    return runner({ ...ctx, step });
  };
}

/**
 * A provider's typed `outputOf`: the outputs a finished step returned, typed by the step's action.
 * The journal holds exactly what that action's runner returned (`Runners` types the write), so the
 * read is as typed as the write.
 */
export function outputReader<Spec extends ActionSpec>() {
  return <A extends keyof Spec & string>(
    ctx: Pick<StepContext, 'outputOf'>,
    _action: A,
    stepId: string,
  ): Spec[A]['outputs'] | undefined => ctx.outputOf(stepId) as Spec[A]['outputs'] | undefined;
}

/**
 * The parts of a provider that need its SDK. `release` undoes one change at a time; a provider that
 * releases its changes together (Kubernetes) declares `release: { many }` in its index.ts instead.
 */
export interface ProviderImplementation<Params, Facts, S extends Step = Step> {
  discover(params: Params, ctx: ProviderContext): Promise<Facts>;
  preflight(step: S, ctx: ProviderContext): Promise<PreflightResult>;
  run(step: S, ctx: StepContext): Promise<StepOutcome>;
  release?(change: ChangeRecord, ctx: ReleaseContext): Promise<{ restored: boolean; note?: string; kept?: boolean }>;
}

/**
 * Load a provider's SDK-bound half on first use: SDKs are large (the EC2 client alone is ~90 MB of
 * heap), and a capture should pay only for the providers it engages.
 */
export function lazily<Params, Facts, S extends Step = Step>(
  load: () => Promise<ProviderImplementation<Params, Facts, S>>,
): Omit<ProviderImplementation<Params, Facts, S>, 'release'> & {
  release: Extract<ReleaseCapability, { one: unknown }>;
} {
  let loaded: Promise<ProviderImplementation<Params, Facts, S>> | undefined;
  const get = () => (loaded ??= load());
  return {
    discover: async (params, ctx) => (await get()).discover(params, ctx),
    preflight: async (step, ctx) => (await get()).preflight(step, ctx),
    run: async (step, ctx) => (await get()).run(step, ctx),
    release: {
      async one(change, ctx) {
        const impl = await get();
        if (!impl.release) throw new InternalError(`${change.provider} has no release of one change`);
        return impl.release(change, ctx);
      },
    },
  };
}

/** One text item of a list param and the case path it was given at (`targets.ec2.instances[0]`). */
export interface ParamItem {
  text: string;
  at: string;
}

/**
 * The text items of a list param (one value or an array), trimmed, empty ones dropped; with
 * `splitCommas`, "a,b" gives two items at the same path. Problems name the path an item came from.
 */
export function paramItems(value: unknown, field: string, splitCommas = false): ParamItem[] {
  if (value === undefined || value === null) return [];
  const items: unknown[] = Array.isArray(value) ? value : [value];
  return items.flatMap((v, i) => {
    const at = Array.isArray(value) ? `${field}[${i}]` : field;
    return (splitCommas ? String(v).split(',') : [String(v)])
      .map((text) => ({ text: text.trim(), at }))
      .filter((item) => item.text);
  });
}

/** How a boolean param may be spelled: JSON's own, or the same words as text (a flag, an env var). */
const FLAG_SPELLINGS = new Map<unknown, boolean>([
  [true, true],
  [false, false],
  ['true', true],
  ['false', false],
]);

/**
 * The one way providers read their raw params (`targets.<id>`): unknown fields, lists, booleans,
 * whole numbers and texts, each problem named by its case path and collected in `problems`.
 * Booleans are `true`/`false` (or those words as text); anything else ("yes", 1) is refused, never
 * read as false.
 */
export function paramReader(providerId: string, raw: JsonObject, known: readonly string[]) {
  const problems: InputProblem[] = [];
  const field = (name: string) => `targets.${providerId}.${name}`;
  for (const key of Object.keys(raw))
    if (!known.includes(key)) problems.push({ field: field(key), message: 'unknown field' });
  return {
    problems,
    /** The case path of one of this provider's params. */
    field,
    /** The text items of a list param (`paramItems`). */
    list: (name: string, splitCommas = false): ParamItem[] => paramItems(raw[name], field(name), splitCommas),
    /** A boolean param; absent is false. */
    flag(name: string): boolean {
      const value = raw[name];
      if (value === undefined || value === null) return false;
      const known = FLAG_SPELLINGS.get(value);
      if (known === undefined) problems.push(valueProblem(field(name), value, 'is not true or false'));
      return known ?? false;
    },
    /** A whole number from `min` to `max` (`unit` names it in the problem); null when absent. */
    wholeNumber(name: string, min: number, max: number, unit: string): number | null {
      const value = raw[name];
      if (value === undefined || value === null) return null;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max)
        problems.push({
          field: field(name),
          message: `expected whole ${unit} from ${min} to ${max}, got ${JSON.stringify(value)}`,
        });
      return n;
    },
    /** A text param; null when absent or empty. */
    text: (name: string): string | null => (raw[name] ? String(raw[name]) : null),
    /** What `parseParams` returns: the params only when nothing is wrong, and every problem. */
    result: <P>(params: P): { params?: P; problems: InputProblem[] } =>
      problems.length ? { problems } : { params, problems },
  };
}
