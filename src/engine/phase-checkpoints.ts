/**
 * A journal copy in the evidence store each time a phase ends (except the last, whose copy the seal
 * writes anyway). The local journal is the capture's state; if the machine holding it is lost
 * mid-capture, a responder elsewhere continues from the newest copy in the store — with the
 * "before" values recorded so far — and `status --store` shows the progress meanwhile.
 */
import { RemoteError } from '../core/errors.js';
import { holdfastErrorOf } from './registry.js';
import { sha256Hex } from '../evidence/canonical-json.js';
import { streamToString } from '../evidence/store-journal.js';
import type { CaptureEventBody } from '../core/events.js';
import type { Journal } from '../evidence/journal.js';
import { phaseCheckpointKey } from '../evidence/store-keys.js';
import type { CapturePlan, EvidenceStore, Step, StoredObject } from '../core/types.js';
import { PHASES } from '../core/types.js';

export interface PhaseCheckpoints {
  /** A step has settled (done, failed, skipped, waiting); `ran` when it did work in this run. */
  settled(step: Step, ran: boolean): void;
  /** Wait for copies in flight; a copy that could not be stored becomes a limitation. */
  flush(): Promise<void>;
}

export function phaseCheckpoints(
  plan: CapturePlan,
  deps: { store: EvidenceStore; journal: Journal; emit: (body: CaptureEventBody) => unknown; signal: AbortSignal },
): PhaseCheckpoints {
  const remaining = new Map<string, number>();
  for (const s of plan.steps) remaining.set(s.phase, (remaining.get(s.phase) ?? 0) + 1);
  const lastPhase = PHASES.filter((p) => remaining.has(p)).at(-1);
  const worked = new Set<string>();
  const inFlight: Promise<void>[] = [];
  const failures: string[] = [];
  return {
    settled(step, ran) {
      if (ran) worked.add(step.phase);
      const left = (remaining.get(step.phase) ?? 1) - 1;
      remaining.set(step.phase, left);
      // A phase a resumed run found finished needs no new copy; an aborted run stops writing.
      if (left > 0 || step.phase === lastPhase || !worked.has(step.phase) || deps.signal.aborted) return;
      const key = phaseCheckpointKey(plan.incident, step.phase, deps.journal.head, new Date().toISOString());
      inFlight.push(
        putWithRetry(deps.store, key, deps.journal.text()).then(
          () => undefined,
          (error: Error) =>
            void failures.push(
              `the journal copy after the ${step.phase} phase could not be stored (${error.message}): until the seal, only this machine holds the record`,
            ),
        ),
      );
    },
    async flush() {
      await Promise.all(inFlight);
      for (const message of failures) deps.emit({ type: 'capture.limitation', message });
    },
  };
}

/** Attempts for one copy: throttling should not cost the record, and a copy is not worth holding a capture up. */
const CHECKPOINT_ATTEMPTS = 3;
const CHECKPOINT_RETRY_DELAY_MS = 300;

/**
 * Store a small document, retrying throttling and other retryable failures a few times. Keys are
 * write-once, so an attempt whose object arrived although the call failed (a lost answer, a throttled
 * lock check after the upload) is found on the next try and accepted when its bytes are ours.
 */
export async function putWithRetry(
  store: EvidenceStore,
  key: string,
  text: string,
  contentType = 'application/x-ndjson',
): Promise<StoredObject> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (attempt > 1) {
        const there = await alreadyStored(store, key, text);
        if (there) return there;
      }
      return await store.put(key, text, { contentType });
    } catch (error) {
      const e = holdfastErrorOf(error);
      if (!(e instanceof RemoteError && e.retryable) || attempt >= CHECKPOINT_ATTEMPTS) throw e;
      await new Promise((r) => setTimeout(r, CHECKPOINT_RETRY_DELAY_MS * attempt));
    }
  }
}

/** The object at `key` when it holds exactly `text` (an earlier attempt's), else undefined. */
async function alreadyStored(store: EvidenceStore, key: string, text: string): Promise<StoredObject | undefined> {
  const head = await store.head(key);
  if (!head) return undefined;
  const stored = await streamToString(await store.get(key, head.versionId));
  if (stored !== text) return undefined;
  return {
    key,
    ...(head.versionId ? { versionId: head.versionId } : {}),
    sha256: sha256Hex(text),
    size: head.size,
    location: { key, ...(head.versionId ? { versionId: head.versionId } : {}) },
  };
}
