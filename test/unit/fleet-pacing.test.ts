import { describe, expect, it } from 'vitest';
import { batcher } from '../../src/core/batch.js';
import { ec2Category, parseRateLimits, TokenBucket } from '../../src/aws/rate-limit.js';

describe('batcher', () => {
  it('sends look-ups made together as one call, and those made meanwhile as the next', async () => {
    const calls: string[][] = [];
    const get = batcher(
      async (keys) => {
        calls.push(keys);
        await new Promise((r) => setTimeout(r, 20));
        return new Map(keys.map((k) => [k, k.toUpperCase()]));
      },
      { maxBatch: 3 },
    );
    const first = ['a', 'b', 'c', 'd'].map(get);
    await new Promise((r) => setTimeout(r, 5));
    const later = ['e', 'a'].map(get);
    expect(await Promise.all([...first, ...later])).toEqual(['A', 'B', 'C', 'D', 'E', 'A']);
    expect(calls).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e', 'a'],
    ]);
  });

  it('with a linger, look-ups made apart within it go in one call; a full batch goes at once', async () => {
    const calls: string[][] = [];
    const get = batcher(
      async (keys) => {
        calls.push(keys);
        return new Map(keys.map((k) => [k, k]));
      },
      { maxBatch: 3, lingerMs: 1000 },
    );
    const a = get('a');
    await new Promise((r) => setTimeout(r, 15));
    const b = get('b');
    expect(calls).toEqual([]);
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(calls).toEqual([['a', 'b']]);
    // Three keys fill a batch: no waiting for the linger.
    const started = performance.now();
    await Promise.all(['x', 'y', 'z'].map(get));
    expect(performance.now() - started).toBeLessThan(500);
    expect(calls.at(-1)).toEqual(['x', 'y', 'z']);
  });

  it('when a batch fails, tries each key alone so only the bad key fails', async () => {
    const get = batcher(
      async (keys) => {
        if (keys.includes('bad')) throw new Error(`bad in ${keys.join()}`);
        return new Map(keys.map((k) => [k, 1]));
      },
      { maxBatch: 10 },
    );
    const results = await Promise.allSettled(['x', 'bad', 'y'].map(get));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('EC2 rate limits', () => {
  it("uses AWS's category defaults, with overrides per action or category", () => {
    expect(ec2Category('DescribeInstances')).toBe('nonMutating');
    expect(ec2Category('ModifyInstanceAttribute')).toBe('mutating');
    const limits = parseRateLimits('ModifyInstanceAttribute=400/10,nonMutating=50/5')!;
    expect(limits('ModifyInstanceAttribute')).toEqual({ capacity: 400, perSecond: 10 });
    expect(limits('CreateTags')).toEqual({ capacity: 200, perSecond: 5 });
    expect(limits('DescribeVolumes')).toEqual({ capacity: 50, perSecond: 5 });
    expect(parseRateLimits('off')).toBeUndefined();
    expect(() => parseRateLimits('CreateTags=fast')).toThrow(/HOLDFAST_EC2_RATE_LIMITS.*CreateTags=fast/);
  });

  it('a token bucket lets a burst of `capacity` through at once, then paces at the refill rate', async () => {
    const bucket = new TokenBucket({ capacity: 3, perSecond: 50 });
    const start = performance.now();
    const waits = await Promise.all(Array.from({ length: 8 }, () => bucket.take()));
    const elapsed = performance.now() - start;
    expect(waits.slice(0, 3).every((w) => w < 15)).toBe(true);
    // Five more tokens at 50/s take at least 100 ms.
    expect(elapsed).toBeGreaterThanOrEqual(95);
  });
});

describe('time to containment per target', () => {
  it('gives nearest-rank p50, p95 and max over the targets contained', async () => {
    const { containmentStats } = await import('../../src/evidence/timeline.js');
    const times = Array.from({ length: 20 }, (_, i) => (i + 1) * 1000);
    expect(containmentStats(times)).toEqual({ targets: 20, p50Ms: 10_000, p95Ms: 19_000, maxMs: 20_000 });
    expect(containmentStats([])).toBeUndefined();
  });
});
