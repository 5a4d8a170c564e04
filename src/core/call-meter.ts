/**
 * Counting remote calls per step without the engine knowing any cloud: the engine runs each step
 * inside `callMeter.run(counts, …)`; a cloud's client middleware (AWS: src/aws/rate-limit.ts) adds
 * its calls, throttles and time waited for its own rate limits under its credential kind. The
 * engine sums them and asks the kit how to say them (`CredentialKit.describeCalls`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CredentialKind } from './types.js';

/** What one cloud's clients did during a step (or a run). */
export interface CallCounts {
  calls: number;
  /** Answers that said "slow down" (the SDK retried them). */
  throttles: number;
  /** Time spent waiting for the client's own rate-limit tokens. */
  waitedMs: number;
}

/** Counts by the credential kind whose clients made the calls. */
export type CallCountsByKind = Partial<Record<CredentialKind, CallCounts>>;

/** The counts of the step running in this async context, if any. */
export const callMeter = new AsyncLocalStorage<CallCountsByKind>();

/** Zeroed counts. */
export const noCalls = (): CallCounts => ({ calls: 0, throttles: 0, waitedMs: 0 });

/** The running step's counts for `kind` (created on first use), or undefined outside a step. */
export function meteredCalls(kind: CredentialKind): CallCounts | undefined {
  const byKind = callMeter.getStore();
  return byKind ? (byKind[kind] ??= noCalls()) : undefined;
}
