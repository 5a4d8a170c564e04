/** Sealing a capture into the store, and recognising an incident that is already sealed. */
import { existsSync, readFileSync } from 'node:fs';
import { InternalError } from '../core/errors.js';
import { describeFailure } from './registry.js';
import type { CaptureEvent, CaptureEventBody } from '../core/events.js';
import { checkJournalChain, type Journal } from '../evidence/journal.js';
import type { JournalState } from '../evidence/journal-state.js';
import { foldManifest, serializeManifest, type Manifest } from '../evidence/manifest.js';
import { outcomeFrom, type CaptureOutcome } from './outcome.js';
import { canonicalJson, sha256Hex } from '../evidence/canonical-json.js';
import { foldReleaseRecord } from '../evidence/release-record.js';
import { isSealLine, lastSealIndex, sealRef } from '../evidence/seals.js';
import { inspectLock, lockIncident } from './incident-lock.js';
import { signRecord, type SignedKind, type Signer } from '../evidence/signing.js';
import { releaseSealKeys, sealKeys } from '../evidence/store-keys.js';
import { foldTimeline } from '../evidence/timeline.js';
import { pinJournalCopies, streamToString, type JournalCopyPin } from '../evidence/store-journal.js';
import { putWithRetry } from './phase-checkpoints.js';
import type { CapturePlan, EvidenceStore } from '../core/types.js';

/** True when the last event is a seal and every step of this plan is done (or still held back). */
export function isAlreadySealed(plan: CapturePlan, state: JournalState, last: CaptureEvent | undefined): boolean {
  if (!state.sealed || last?.type !== 'capture.sealed') return false;
  return plan.steps.every((s) => {
    const st = state.steps.get(s.id)?.status;
    return st === 'done' || (st === 'waiting' && s.awaitsApproval);
  });
}

/**
 * Finish a seal a crash interrupted: the seal line is journaled only after the manifest is stored,
 * so what can be missing is the journal copy written after it. Stores it from the local journal
 * (which ends with that seal line) and says so; false when the manifest itself is not in the store.
 */
export async function completeSeal(
  store: EvidenceStore,
  sealed: { recordKey: string; journalKey: string },
  journalText: string,
): Promise<{ ok: boolean; completed: string[] }> {
  if (!(await store.head(sealed.recordKey))) return { ok: false, completed: [] };
  if (await store.head(sealed.journalKey)) return { ok: true, completed: [] };
  await putWithRetry(store, sealed.journalKey, journalText);
  return {
    ok: true,
    completed: [
      `the seal was interrupted before the journal copy ${sealed.journalKey} was stored; it was stored now from the local journal`,
    ],
  };
}

/**
 * `status` and `verify` finish a seal that a killed run left half done, the way the next capture
 * would: only when the run's holder is provably gone (an abandoned lock) and its journal ends with
 * a seal line. The lock is taken (a live run is never raced), the journal copy stored when missing,
 * and the lock released. Returns what it did, and what it could not do, as lines for the responder.
 */
export async function finishInterruptedSeal(
  path: string,
  incident: string,
  store: EvidenceStore | undefined,
): Promise<{ completed: string[]; unfinished: string[] }> {
  const none = { completed: [], unfinished: [] };
  if (inspectLock(path).state !== 'abandoned' || !existsSync(path)) return none;
  const endsWithSeal = (text: string) => {
    const chain = checkJournalChain(text);
    const last = chain.events.at(-1);
    return chain.ok && text.endsWith('\n') && last && isSealLine(last) ? sealRef(last) : undefined;
  };
  // The run stopped before its seal line: only the same command can finish the run.
  if (!endsWithSeal(readFileSync(path, 'utf8'))) return none;
  if (!store)
    return {
      completed: [],
      unfinished: [`the run was killed while sealing; give --store to store the journal copy it did not store`],
    };
  const unlock = lockIncident(path, incident);
  try {
    const text = readFileSync(path, 'utf8'); // again, under the lock
    const ref = endsWithSeal(text);
    if (!ref) return none;
    const done = await completeSeal(store, ref, text);
    if (!done.ok)
      return {
        completed: [],
        unfinished: [
          `the run was killed while sealing and ${ref.recordKey} is not in ${store.description}; run the same ${ref.kind === 'manifest' ? 'capture' : 'release'} to seal again`,
        ],
      };
    return { completed: done.completed, unfinished: [] };
  } finally {
    unlock();
  }
}

/** The outcome of an incident sealed earlier, read back from the store (completing an interrupted seal). */
export async function sealedOutcome(
  plan: CapturePlan,
  state: JournalState,
  store: EvidenceStore,
  path: string,
  journalText: string,
): Promise<CaptureOutcome | undefined> {
  const sealed = state.sealed!;
  const completion = await completeSeal(
    store,
    { recordKey: sealed.manifestKey, journalKey: sealed.journalKey },
    journalText,
  );
  if (!completion.ok) return undefined; // the manifest is not there: seal again
  const text = await streamToString(await store.get(sealed.manifestKey, sealed.manifestVersionId));
  const manifest = JSON.parse(text) as Manifest;
  const base = outcomeFrom(plan, state, {
    status: manifest.status,
    captureId: state.captureId ?? '',
    journalPath: path,
  });
  return {
    ...base,
    limitations: [...base.limitations, ...completion.completed],
    manifest,
    manifestKey: sealed.manifestKey,
    ...(sealed.manifestVersionId ? { manifestVersionId: sealed.manifestVersionId } : {}),
    manifestSha256: serializeManifest(manifest).sha256,
    alreadySealed: true,
  };
}

/** Store a seal record and, with a signer, its signature beside it; both write-once. */
async function storeSealRecord(
  store: EvidenceStore,
  what: { kind: SignedKind; incident: string; key: string; text: string; signer?: Signer },
): Promise<{ sha256: string; versionId?: string; signatureKey?: string }> {
  const sha256 = sha256Hex(what.text);
  const stored = await putWithRetry(store, what.key, what.text, 'application/json');
  if (stored.sha256 !== sha256) throw new InternalError(`${what.key} changed while storing it`);
  let signatureKey: string | undefined;
  if (what.signer) {
    const record = await signRecord(what.signer, {
      kind: what.kind,
      incident: what.incident,
      recordKey: what.key,
      recordSha256: sha256,
    });
    signatureKey = `${what.key}.sig.json`;
    await putWithRetry(store, signatureKey, `${JSON.stringify(record, null, 2)}\n`, 'application/json');
  }
  return {
    sha256,
    ...(stored.versionId ? { versionId: stored.versionId } : {}),
    ...(signatureKey ? { signatureKey } : {}),
  };
}

/** Pin the journal copies already stored; a copy that is not a beginning of this journal is named as a limitation. */
async function pinCopies(
  store: EvidenceStore,
  incident: string,
  journal: Journal,
  emit: (body: CaptureEventBody) => unknown,
): Promise<JournalCopyPin[]> {
  const { pins, strays } = await pinJournalCopies(store, incident, journal.text());
  for (const key of strays)
    emit({
      type: 'capture.limitation',
      message: `journal copy ${key} in the store is not a beginning of this journal: not pinned by the seal (verify names it)`,
    });
  return pins;
}

/**
 * Seal: pin the journal copies stored so far, fold the journal into the manifest and store it
 * (signed, with a signer), journal the seal (so the manifest's digest joins the hash chain), then
 * store the journal copy that ends with the seal. A failure leaves the capture resumable.
 */
export async function seal(
  plan: CapturePlan,
  deps: {
    journal: Journal;
    store: EvidenceStore;
    emit: (body: CaptureEventBody) => CaptureEvent;
    captureId: string;
    path: string;
    signer?: Signer;
  },
): Promise<CaptureOutcome> {
  const { journal, store, emit } = deps;
  try {
    const copies = await pinCopies(store, plan.incident, journal, emit);
    const sealedAt = new Date().toISOString();
    const keys = sealKeys(plan.incident, journal.head, sealedAt);
    const manifest = foldManifest(plan.steps, journal.events, {
      store: store.description,
      journalKey: keys.journal,
      journalHead: journal.head,
      sealedAt,
      copies,
    });
    const { text } = serializeManifest(manifest);
    const stored = await storeSealRecord(store, {
      kind: 'manifest',
      incident: plan.incident,
      key: keys.manifest,
      text,
      ...(deps.signer ? { signer: deps.signer } : {}),
    });
    emit({
      type: 'capture.sealed',
      status: manifest.status,
      manifestKey: keys.manifest,
      ...(stored.versionId ? { manifestVersionId: stored.versionId } : {}),
      manifestSha256: stored.sha256,
      journalKey: keys.journal,
      ...(stored.signatureKey && deps.signer ? { signatureKey: stored.signatureKey, signer: deps.signer.keyId } : {}),
    });
    await putWithRetry(store, keys.journal, journal.text());
    const state = journal.fold.state();
    return {
      ...outcomeFrom(plan, state, {
        status: manifest.status,
        captureId: deps.captureId,
        journalPath: deps.path,
        timeline: manifest.timeline,
      }),
      manifest,
      manifestKey: keys.manifest,
      ...(stored.versionId ? { manifestVersionId: stored.versionId } : {}),
      manifestSha256: stored.sha256,
    };
  } catch (error) {
    const failure = describeFailure(error);
    const state = journal.fold.state();
    const outcome = outcomeFrom(plan, state, {
      status: 'partial',
      captureId: deps.captureId,
      journalPath: deps.path,
      timeline: foldTimeline(journal.events),
    });
    outcome.failures.push({ stepId: 'seal', code: failure.code, message: `manifest not sealed: ${failure.message}` });
    return outcome;
  }
}

/**
 * Seal a release (and any other events since the last seal) with a release record, as a capture is
 * sealed with its manifest: every event in the journal ends up covered by a seal. Returns the key of
 * the journal copy that ends with `release.sealed`.
 */
export async function sealRelease(
  incident: string,
  deps: { journal: Journal; store: EvidenceStore; emit: (body: CaptureEventBody) => unknown; signer?: Signer },
): Promise<{ journalKey: string; recordKey: string }> {
  const { journal, store, emit } = deps;
  const since = lastSealIndex(journal.events) + 1;
  const copies = await pinCopies(store, incident, journal, emit);
  const sealedAt = new Date().toISOString();
  const keys = releaseSealKeys(incident, journal.head, sealedAt);
  const record = foldReleaseRecord(incident, journal.events, since, {
    journalKey: keys.journal,
    journalHead: journal.head,
    sealedAt,
    copies,
  });
  const stored = await storeSealRecord(store, {
    kind: 'release',
    incident,
    key: keys.record,
    text: canonicalJson(record),
    ...(deps.signer ? { signer: deps.signer } : {}),
  });
  emit({
    type: 'release.sealed',
    recordKey: keys.record,
    ...(stored.versionId ? { recordVersionId: stored.versionId } : {}),
    recordSha256: stored.sha256,
    journalKey: keys.journal,
    ...(stored.signatureKey && deps.signer ? { signatureKey: stored.signatureKey, signer: deps.signer.keyId } : {}),
  });
  await putWithRetry(store, keys.journal, journal.text());
  return { journalKey: keys.journal, recordKey: keys.record };
}
