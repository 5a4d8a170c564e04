/** A run's scope for providers: memoised state that lives exactly as long as one run. */
import type { RunScope, Step } from '../core/types.js';

/** A fresh scope; `steps` are the plan's when the run carries one out. */
export function runScope(steps: readonly Step[] = []): RunScope {
  const values = new Map<string, unknown>();
  return {
    steps,
    memo<T>(key: string, build: () => T): T {
      if (!values.has(key)) values.set(key, build());
      return values.get(key) as T;
    },
  };
}
