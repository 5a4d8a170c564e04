/**
 * Client-side pacing of AWS calls per API, so a fleet capture spends its time waiting for tokens
 * instead of collecting RequestLimitExceeded errors. EC2 throttles each API separately with a token
 * bucket per account and region (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html):
 * a bucket holds up to `capacity` requests and refills `perSecond` tokens a second. The defaults are
 * AWS's published ones for each category; accounts with raised limits set their own through
 * HOLDFAST_EC2_RATE_LIMITS. SDK-free: a provider's client.ts attaches `pacingMiddleware`.
 */
import { meteredCalls, type CallCounts } from '../core/call-meter.js';
import { BadInputError } from '../core/errors.js';
import { isThrottled } from './errors.js';

/** One API's bucket. */
export interface BucketLimit {
  capacity: number;
  perSecond: number;
}

/** AWS's default request-rate buckets by category of EC2 action. */
export const EC2_DEFAULT_BUCKETS = {
  /** Describe*, Get* and other reads. */
  nonMutating: { capacity: 100, perSecond: 20 },
  /** Create*, Modify*, Authorize*, CreateTags… */
  mutating: { capacity: 200, perSecond: 5 },
} as const satisfies Record<string, BucketLimit>;

/** Which default bucket an EC2 action falls in. */
export function ec2Category(action: string): keyof typeof EC2_DEFAULT_BUCKETS {
  return /^(Describe|Get|List|Search)/.test(action) ? 'nonMutating' : 'mutating';
}

/** A token bucket that hands out tokens in request order and says how long a caller must wait. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  #tail: Promise<void> = Promise.resolve();
  constructor(
    readonly limit: BucketLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = limit.capacity;
    this.#last = now();
  }

  /** Wait for one token; resolves with the milliseconds waited. */
  take(): Promise<number> {
    const start = this.now();
    const turn = this.#tail.then(async () => {
      this.#refill();
      if (this.#tokens < 1) {
        const waitMs = ((1 - this.#tokens) / this.limit.perSecond) * 1000;
        await new Promise((r) => setTimeout(r, Math.ceil(waitMs)));
        this.#refill();
      }
      this.#tokens -= 1;
    });
    this.#tail = turn;
    return turn.then(() => this.now() - start);
  }

  /** After a throttle the server's bucket is emptier than ours: stop spending until it refills. */
  drain(): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, 0);
  }

  #refill(): void {
    const t = this.now();
    this.#tokens = Math.min(this.limit.capacity, this.#tokens + ((t - this.#last) / 1000) * this.limit.perSecond);
    this.#last = t;
  }
}

/** Buckets per API for one account and region. */
export class RateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly totals: CallCounts = { calls: 0, throttles: 0, waitedMs: 0 };
  constructor(private readonly limitOf: (action: string) => BucketLimit | undefined) {}

  bucket(action: string): TokenBucket | undefined {
    let b = this.#buckets.get(action);
    if (!b) {
      const limit = this.limitOf(action);
      if (!limit) return undefined;
      this.#buckets.set(action, (b = new TokenBucket(limit)));
    }
    return b;
  }
}

/**
 * SDK middleware (finalizeRequest step, inside the retry loop so every attempt pays a token):
 * take the API's token, send, count calls and throttles for the running step and drain the bucket
 * when a throttle comes back.
 */
export function pacingMiddleware(limiter: RateLimiter) {
  return (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: unknown): Promise<unknown> => {
      const action = (context.commandName ?? '').replace(/Command$/, '');
      // The running step's counts (src/core/call-meter.ts): the engine reports them without knowing AWS.
      const stats = meteredCalls('aws');
      const bucket = limiter.bucket(action);
      const waited = bucket ? await bucket.take() : 0;
      for (const s of [limiter.totals, stats]) {
        if (!s) continue;
        s.calls++;
        s.waitedMs += waited;
      }
      try {
        return await next(args);
      } catch (error) {
        if (isThrottled(error)) {
          bucket?.drain();
          limiter.totals.throttles++;
          if (stats) stats.throttles++;
        }
        throw error;
      }
    };
}

/**
 * Parse HOLDFAST_EC2_RATE_LIMITS: `off`, or comma-separated `Name=capacity/perSecond` where Name is
 * an action (ModifyInstanceAttribute), or a category (mutating, nonMutating). Unset: AWS's defaults.
 */
export function parseRateLimits(value: string | undefined): ((action: string) => BucketLimit | undefined) | undefined {
  if (value?.trim() === 'off') return undefined;
  const overrides = new Map<string, BucketLimit>();
  for (const part of (value ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(part);
    if (!m || Number(m[3]) <= 0 || Number(m[2]) < 1)
      throw new BadInputError({
        field: 'HOLDFAST_EC2_RATE_LIMITS',
        message: `${JSON.stringify(part)} is not Name=capacity/perSecond (e.g. mutating=200/5, ModifyInstanceAttribute=400/10) or "off"`,
      });
    overrides.set(m[1]!, { capacity: Number(m[2]), perSecond: Number(m[3]) });
  }
  return (action) => {
    const category = ec2Category(action);
    return overrides.get(action) ?? overrides.get(category) ?? EC2_DEFAULT_BUCKETS[category];
  };
}

const limiters = new Map<string, RateLimiter | undefined>();

/**
 * The EC2 rate limiter for a region and settings, shared by every client of this process: AWS
 * counts per account and region, not per client.
 */
export function ec2RateLimiter(region: string, env: NodeJS.ProcessEnv): RateLimiter | undefined {
  const spec = env.HOLDFAST_EC2_RATE_LIMITS;
  const key = `${region}|${env.AWS_ENDPOINT_URL ?? ''}|${spec ?? ''}`;
  if (!limiters.has(key)) {
    const limitOf = parseRateLimits(spec);
    limiters.set(key, limitOf ? new RateLimiter(limitOf) : undefined);
  }
  return limiters.get(key);
}
