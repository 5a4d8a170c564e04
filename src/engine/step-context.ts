/** The context a provider's `run` gets for one step; every record goes through the journal first. */
import { pipeline as pipe, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CaptureEvent, CaptureEventBody, ProgressEvent } from '../core/events.js';
import type { Journal } from '../evidence/journal.js';
import type { CallCountsByKind } from '../core/call-meter.js';
import { IntegrityError, InternalError } from '../core/errors.js';
import { HashingStream } from '../evidence/hash.js';
import { canonicalJson } from '../evidence/canonical-json.js';
import { artifactKey } from '../evidence/store-keys.js';
import type {
  ArtifactInput,
  ArtifactRecord,
  ChangeRecord,
  EvidenceStore,
  JsonObject,
  Provider,
  ProviderContext,
  RemoteArtifacts,
  RemoteStoreAccess,
  Step,
  StepContext,
  StoredObject,
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
  /** Live progress, not journaled. */
  progress: (p: Omit<ProgressEvent, 'type' | 'at' | 'incident'>) => void;
  providerOf: (step: Step) => Provider;
  /** Each cloud's calls, throttles and time paced, summed over this run's steps. */
  calls?: CallCountsByKind;
  options: { concurrency?: number; retry?: { maxAttempts?: number; baseDelayMs?: number } };
}

/** The context a provider's `run` gets: every record goes through the journal first. */
export function stepContext(step: Step, deps: RunDeps): StepContext {
  const { emit, store, base, journal } = deps;
  const fold = journal.fold;
  const recorded = fold.recordedBy(step.id);
  const previous = {
    ...recorded,
    intents: [...(fold.intents.get(step.id) ?? [])],
    released: recorded.changes.filter((c) => fold.isReleased(c.id)).map((c) => c.id),
  };
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
      for (let n = 1; await store.head(key); n++) key = artifactKey(base.incident, step.id, input.name, n);
      const counted = countBytes(body, (bytes, bytesPerSecond, done) =>
        deps.progress({ stepId: step.id, bytes, bytesPerSecond, done }),
      );
      const stored = await store.put(key, counted, {
        ...(input.contentType ? { contentType: input.contentType } : {}),
        signal: base.signal,
      });
      return recordStoredArtifact(deps, step, id, input, stored);
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
    reportProgress(p) {
      deps.progress({ stepId: step.id, ...p });
    },
    artifactOf(id) {
      return fold.artifact(id);
    },
    async amendArtifactMethod(id, added) {
      const earlier = fold.artifact(id);
      if (!earlier) throw new InternalError(`${step.id}: no artifact ${id} to amend`);
      const clash = Object.keys(added).filter(
        (k) => Object.hasOwn(earlier.method, k) && canonicalJson(earlier.method[k]) !== canonicalJson(added[k]),
      );
      // Evidence records only grow: what an earlier record said is never rewritten.
      if (clash.length) throw new InternalError(`${step.id}: ${id} already records ${clash.join(', ')} differently`);
      const artifact: ArtifactRecord = { ...earlier, method: { ...earlier.method, ...added } };
      emit({ type: 'artifact.recorded', stepId: step.id, artifact });
      await deps.durable();
      return artifact;
    },
    outputOf(stepId) {
      return fold.steps.get(stepId)?.outputs;
    },
    ...(store.remote ? { remote: remoteArtifacts(step, deps, store.remote) } : {}),
  };
}

/** Artifacts a host writes through presigned URLs: keys as putArtifact's, hashed here on adoption. */
function remoteArtifacts(step: Step, deps: RunDeps, remote: RemoteStoreAccess): RemoteArtifacts {
  const { store, base } = deps;
  const keyOf = (name: string, stepId = step.id) => artifactKey(base.incident, stepId, name);
  return {
    keyOf,
    readUrl: (artifact, expiresInSeconds) =>
      remote.readUrl(storeKeyOf(artifact), artifact.location.versionId as string | undefined, expiresInSeconds),
    writeUrls: (key, options) => remote.writeUrls(key, options),
    complete: (key, uploadId) => remote.complete(key, uploadId),
    async adopt(input, check, writtenFor) {
      const id = `${step.id}/${input.name}`;
      const done = deps.journal.fold.artifact(id);
      if (done) return done;
      const key = keyOf(input.name, writtenFor);
      const found = await store.head(key);
      if (!found) return undefined;
      const hasher = new HashingStream();
      let head = Buffer.alloc(0);
      const counted = countBytes(await store.get(key, found.versionId), (bytes, bytesPerSecond, finished) =>
        deps.progress({ stepId: step.id, bytes, bytesPerSecond, done: finished }),
      ) as Readable;
      await pipeline(counted, hasher, async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) if (head.length < ADOPT_HEAD_BYTES) head = Buffer.concat([head, chunk]);
      });
      const sha256 = hasher.digest();
      const problem = check?.(head.subarray(0, ADOPT_HEAD_BYTES), hasher.size, sha256);
      if (problem) throw new IntegrityError(`${key}: ${problem}`);
      const sealed = await remote.seal(key, found.versionId);
      return recordStoredArtifact(deps, step, id, input, {
        ...sealed,
        key,
        sha256,
        size: hasher.size,
      });
    },
  };
}

/** Bytes of a remotely written artifact a check sees (headers of image formats). */
const ADOPT_HEAD_BYTES = 4096;

/** The store key of an artifact (putArtifact and adopt record the store's own key, without its prefix). */
/** Journals an artifact whose bytes the store holds and hashed (streamed here, or adopted from a host). */
async function recordStoredArtifact(
  deps: RunDeps,
  step: Step,
  id: string,
  input: ArtifactInput,
  stored: Omit<StoredObject, 'versionId'>,
): Promise<ArtifactRecord> {
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
  deps.emit({ type: 'artifact.recorded', stepId: step.id, artifact });
  await deps.durable();
  return artifact;
}

function storeKeyOf(artifact: ArtifactRecord): string {
  return String(artifact.location.key);
}

/** How often byte counts are reported while a stream flows. */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * Count bytes on their way to the store and report them every PROGRESS_INTERVAL_MS. The count is
 * only for people watching; the store's hashing stream stays the one measure of the evidence.
 * pipeline() carries a failing source's error on to the store, so a failed dump still fails the put.
 */
function countBytes(
  body: Readable | Buffer | string,
  report: (bytes: number, bytesPerSecond: number, done: boolean) => void,
): Readable | Buffer | string {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  let bytes = 0;
  let first = 0;
  let last = 0;
  const send = (done: boolean) => {
    const now = Date.now();
    last = now;
    const seconds = (now - first) / 1000;
    report(bytes, seconds > 0 ? Math.round(bytes / seconds) : 0, done);
  };
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!first) first = Date.now();
      bytes += chunk.length;
      if (Date.now() - last >= PROGRESS_INTERVAL_MS) send(false);
      callback(null, chunk);
    },
    flush(callback) {
      send(true);
      callback();
    },
  });
  pipe(body, counter, () => {
    // Errors reach the store through `counter`; nothing more to do here.
  });
  return counter;
}
