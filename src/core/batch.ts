/**
 * Coalesce many single look-ups into few batched calls. Requests that arrive while a batch call is
 * in flight wait and go together in the next one, so a fleet's steps share one Describe call per
 * batch instead of one each; at one target the cost is a single call, as before.
 */
export interface BatchOptions {
  /** Keys per call (the API's limit on ids or filter values). */
  maxBatch: number;
  /** Calls in flight at once for this batcher. */
  maxInFlight?: number;
  /**
   * How long the first look-up of an idle batcher waits for others before the call goes (sooner
   * once `maxBatch` keys wait). Default: one turn of the event loop. Worth it where a caller can
   * wait that long; a fleet's look-ups trickle in, so without it batches stay small.
   */
  lingerMs?: number;
}

/**
 * `load` answers a batch of keys with a value per key (a key it leaves out resolves undefined). When
 * a batch of several fails, each key is tried alone, so one bad key fails only its own caller.
 */
export function batcher<V>(
  load: (keys: string[]) => Promise<Map<string, V>>,
  options: BatchOptions,
): (key: string) => Promise<V | undefined> {
  const maxInFlight = options.maxInFlight ?? 1;
  let queue: { key: string; resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[] = [];
  let inFlight = 0;
  /** Cancels the scheduled flush, when one is scheduled. */
  let scheduled: (() => void) | undefined;
  const lingerMs = options.lingerMs ?? 0;
  const run = async (batch: typeof queue) => {
    const keys = [...new Set(batch.map((b) => b.key))];
    try {
      const found = await load(keys);
      for (const b of batch) b.resolve(found.get(b.key));
    } catch (error) {
      if (keys.length === 1) for (const b of batch) b.reject(error);
      else
        for (const key of keys) {
          const mine = batch.filter((b) => b.key === key);
          await run(mine);
        }
    }
  };
  const flush = () => {
    scheduled?.();
    scheduled = undefined;
    while (queue.length && inFlight < maxInFlight) {
      const batch: typeof queue = [];
      const keys = new Set<string>();
      const rest: typeof queue = [];
      for (const q of queue) {
        if (keys.has(q.key) || keys.size < options.maxBatch) {
          keys.add(q.key);
          batch.push(q);
        } else rest.push(q);
      }
      queue = rest;
      inFlight++;
      void run(batch).finally(() => {
        inFlight--;
        flush();
      });
    }
  };
  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      queue.push({ key, resolve, reject });
      if (inFlight >= maxInFlight) return; // goes with the next call, when one returns
      // A full batch goes at once; else the first request waits (one turn of the event loop, or
      // the linger) for others started at about the same moment.
      if (lingerMs > 0 && queue.length >= options.maxBatch) flush();
      else if (!scheduled) {
        if (lingerMs > 0) {
          const timer = setTimeout(flush, lingerMs);
          scheduled = () => clearTimeout(timer);
        } else {
          const immediate = setImmediate(flush);
          scheduled = () => clearImmediate(immediate);
        }
      }
    });
}

/** A batcher whose answers are kept: the same key is read once per capture. */
export function memoized<V>(get: (key: string) => Promise<V>): (key: string) => Promise<V> {
  const cache = new Map<string, Promise<V>>();
  return (key) => {
    let p = cache.get(key);
    if (!p) {
      p = get(key);
      // A failed read is not kept: the step's retry reads again.
      p.catch(() => cache.delete(key));
      cache.set(key, p);
    }
    return p;
  };
}
