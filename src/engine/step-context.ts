/** The context a provider's `run` gets for one step; every record goes through the journal first. */
import type { Readable } from 'node:stream';
import type { CaptureEvent, CaptureEventBody } from '../core/events.js';
import type { Journal } from '../evidence/journal.js';
import { artifactKey } from '../evidence/store-keys.js';
import type {
  ArtifactRecord,
  ChangeRecord,
  EvidenceStore,
  JsonObject,
  Provider,
  ProviderContext,
  Step,
  StepContext,
} from '../core/types.js';

/** What the runner hands each step: the journal, the store and who is capturing. */
export interface RunDeps {
  base: ProviderContext;
  /** Who is capturing; stamped on every artifact (chain of custody). */
  acquiredBy: JsonObject;
  store: EvidenceStore;
  journal: Journal;
  /** Journals an event; listeners hear of it once it is durable. */
  emit: (body: CaptureEventBody) => CaptureEvent;
  /** Resolves once everything emitted so far is on disk. */
  durable: () => Promise<void>;
  providerOf: (step: Step) => Provider;
  /** AWS calls, throttles and time paced, summed over this run's steps. */
  pacing?: { calls: number; throttles: number; waitedMs: number };
  options: { concurrency?: number; retry?: { maxAttempts?: number; baseDelayMs?: number } };
}

/** The context a provider's `run` gets: every record goes through the journal first. */
export function stepContext(step: Step, deps: RunDeps): StepContext {
  const { emit, store, base, journal } = deps;
  const fold = journal.fold;
  const previous = { ...fold.recordedBy(step.id), intents: [...(fold.intents.get(step.id) ?? [])] };
  return {
    ...base,
    step,
    previous,
    async putArtifact(input, body) {
      const id = `${step.id}/${input.name}`;
      const done = fold.artifact(id);
      if (done) {
        // Recorded by an interrupted earlier run: keep that one, never store it twice.
        if (typeof body === 'object' && 'destroy' in body) (body as Readable).destroy();
        return done;
      }
      let key = artifactKey(base.incident, step.id, input.name);
      // Bytes stored by a run that crashed before journaling them stay; the new copy goes beside them.
      for (let n = 1; await store.head(key); n++) key = `${artifactKey(base.incident, step.id, input.name)}~${n}`;
      const stored = await store.put(key, body, input.contentType ? { contentType: input.contentType } : {});
      const artifact: ArtifactRecord = {
        id,
        type: input.type,
        stepId: step.id,
        source: input.source,
        acquiredAt: input.acquiredAt,
        location: { ...stored.location, key: stored.key },
        sha256: stored.sha256,
        size: stored.size,
        method: input.method,
        ...(stored.preservation ? { preservation: stored.preservation } : {}),
        acquiredBy: deps.acquiredBy,
      };
      emit({ type: 'artifact.recorded', stepId: step.id, artifact });
      await deps.durable();
      return artifact;
    },
    recordArtifact(input) {
      const { name, ...rest } = input;
      const artifact: ArtifactRecord = {
        ...rest,
        id: `${step.id}/${name}`,
        stepId: step.id,
        acquiredBy: deps.acquiredBy,
      };
      emit({ type: 'artifact.recorded', stepId: step.id, artifact });
      return artifact;
    },
    async recordChange(input) {
      const id = `${step.id}/${input.resource}/${input.attribute}`;
      const earlier = fold.change(id);
      // A re-run sees the already-changed value; the original is what the first run recorded.
      const change: ChangeRecord = {
        ...input,
        ...(earlier ? { before: earlier.before } : {}),
        id,
        stepId: step.id,
        provider: step.provider,
        at: new Date().toISOString(),
      };
      emit({ type: 'change.recorded', stepId: step.id, change });
      // Evidence before change: the record is on disk before the caller makes the change.
      await deps.durable();
      return change;
    },
    async recordIntent(what) {
      emit({ type: 'step.intent', stepId: step.id, what });
      await deps.durable();
    },
    progress(message, detail) {
      emit({ type: 'step.progress', stepId: step.id, message, ...(detail ? { detail } : {}) });
    },
    outputOf(stepId) {
      return fold.steps.get(stepId)?.outputs;
    },
  };
}
