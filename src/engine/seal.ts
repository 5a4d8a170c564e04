/** Sealing a capture into the store, and recognising an incident that is already sealed. */
import { describeError, InternalError } from '../core/errors.js';
import type { CaptureEvent, CaptureEventBody } from '../core/events.js';
import type { Journal } from '../evidence/journal.js';
import type { JournalState } from '../evidence/journal-state.js';
import { foldManifest, serializeManifest, type Manifest } from '../evidence/manifest.js';
import { outcomeFrom, type CaptureOutcome } from './outcome.js';
import { signManifest, type Signer } from '../evidence/signing.js';
import { sealKeys } from '../evidence/store-keys.js';
import { foldTimeline } from '../evidence/timeline.js';
import { streamToString } from '../evidence/store-journal.js';
import type { CapturePlan, EvidenceStore } from '../core/types.js';

/** True when the last event is a seal and every step of this plan is done (or still held back). */
export function isAlreadySealed(plan: CapturePlan, state: JournalState, last: CaptureEvent | undefined): boolean {
  if (!state.sealed || last?.type !== 'capture.sealed') return false;
  return plan.steps.every((s) => {
    const st = state.steps.get(s.id)?.status;
    return st === 'done' || (st === 'waiting' && s.awaitsApproval);
  });
}

/** The outcome of an incident sealed earlier, read back from the store. */
export async function sealedOutcome(
  plan: CapturePlan,
  state: JournalState,
  store: EvidenceStore,
  path: string,
): Promise<CaptureOutcome> {
  const sealed = state.sealed!;
  const text = await streamToString(await store.get(sealed.manifestKey, sealed.manifestVersionId));
  const manifest = JSON.parse(text) as Manifest;
  return {
    ...outcomeFrom(plan, state, { status: manifest.status, captureId: state.captureId ?? '', journalPath: path }),
    manifest,
    manifestKey: sealed.manifestKey,
    ...(sealed.manifestVersionId ? { manifestVersionId: sealed.manifestVersionId } : {}),
    manifestSha256: serializeManifest(manifest).sha256,
    alreadySealed: true,
  };
}

/**
 * Seal: fold the journal into the manifest and store it, journal the seal (so the manifest's digest
 * joins the hash chain), then store the journal copy. A failure leaves the capture resumable.
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
  const sealedAt = new Date().toISOString();
  const keys = sealKeys(plan.incident, journal.head, sealedAt);
  try {
    const manifest = foldManifest(plan.steps, journal.events, {
      store: store.description,
      journalKey: keys.journal,
      journalHead: journal.head,
      sealedAt,
    });
    const { text, sha256 } = serializeManifest(manifest);
    const stored = await store.put(keys.manifest, text, { contentType: 'application/json' });
    if (stored.sha256 !== sha256) throw new InternalError('manifest digest changed while storing it');
    let signatureKey: string | undefined;
    if (deps.signer) {
      const record = await signManifest(deps.signer, keys.manifest, sha256);
      signatureKey = `${keys.manifest}.sig.json`;
      await store.put(signatureKey, `${JSON.stringify(record, null, 2)}\n`, { contentType: 'application/json' });
    }
    emit({
      type: 'capture.sealed',
      status: manifest.status,
      manifestKey: keys.manifest,
      ...(stored.versionId ? { manifestVersionId: stored.versionId } : {}),
      manifestSha256: sha256,
      journalKey: keys.journal,
      ...(signatureKey && deps.signer ? { signatureKey, signer: deps.signer.keyId } : {}),
    });
    await store.put(keys.journal, journal.text(), { contentType: 'application/x-ndjson' });
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
      manifestSha256: sha256,
    };
  } catch (error) {
    const failure = describeError(error);
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
