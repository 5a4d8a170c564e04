/**
 * Seal lines in the journal (pure): a capture's `capture.sealed` (record: the manifest) and a
 * release's `release.sealed` (record: the release record). Every event must be covered by a seal;
 * once a signer is journaled, every later seal must be signed by that same key.
 */
import { BadInputError } from '../core/errors.js';
import type { CaptureEvent, SignerRecord } from '../core/events.js';

export type SealLine = Extract<CaptureEvent, { type: 'capture.sealed' | 'release.sealed' }>;

/** What a seal line points at, the same for both kinds. */
export interface SealRef {
  kind: 'manifest' | 'release';
  recordKey: string;
  recordVersionId?: string;
  recordSha256: string;
  journalKey: string;
  signatureKey?: string;
  signer?: string;
}

export function isSealLine(e: CaptureEvent): e is SealLine {
  return e.type === 'capture.sealed' || e.type === 'release.sealed';
}

export function sealRef(line: SealLine): SealRef {
  const common = {
    journalKey: line.journalKey,
    ...(line.signatureKey ? { signatureKey: line.signatureKey } : {}),
    ...(line.signer ? { signer: line.signer } : {}),
  };
  return line.type === 'capture.sealed'
    ? {
        kind: 'manifest',
        recordKey: line.manifestKey,
        ...(line.manifestVersionId ? { recordVersionId: line.manifestVersionId } : {}),
        recordSha256: line.manifestSha256,
        ...common,
      }
    : {
        kind: 'release',
        recordKey: line.recordKey,
        ...(line.recordVersionId ? { recordVersionId: line.recordVersionId } : {}),
        recordSha256: line.recordSha256,
        ...common,
      };
}

/** Index of the last seal line, or -1. */
export function lastSealIndex(events: readonly CaptureEvent[]): number {
  for (let i = events.length - 1; i >= 0; i--) if (isSealLine(events[i]!)) return i;
  return -1;
}

/** Events after the last seal: covered by no seal, so nothing vouches for them yet. */
export function unsealedTail(events: readonly CaptureEvent[]): CaptureEvent[] {
  return events.slice(lastSealIndex(events) + 1);
}

/** The signer journaled by the run a seal at `index` closes: the latest capture/release start before it. */
export function signerFor(events: readonly CaptureEvent[], index: number): SignerRecord | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'capture.started' || e.type === 'release.started') return e.signer;
  }
  return undefined;
}

/** The first signer the journal records: from then on every seal must be signed with that key. */
export function firstSigner(events: readonly CaptureEvent[]): { signer: SignerRecord; index: number } | undefined {
  const index = events.findIndex((e) => (e.type === 'capture.started' || e.type === 'release.started') && e.signer);
  if (index < 0) return undefined;
  const e = events[index]!;
  return e.type === 'capture.started' || e.type === 'release.started' ? { signer: e.signer!, index } : undefined;
}

/**
 * A run continuing a signed incident must sign with the same key: an unsigned or differently
 * signed seal after a signed one is what a forger would append, so verify rejects it, and the run
 * is refused here, before it changes anything.
 */
export function assertSignerContinues(
  events: readonly CaptureEvent[],
  signer: SignerRecord | undefined,
  incident: string,
): void {
  const first = firstSigner(events)?.signer;
  if (!first) return;
  if (!signer)
    throw new BadInputError({
      field: 'incident',
      message: `${incident} was signed by ${first.keyId}; pass the same key (\`signer\`) so this run's seal is signed too`,
      continues: true,
    });
  if (signer.publicKeyFingerprint !== first.publicKeyFingerprint)
    throw new BadInputError({
      field: 'incident',
      message: `${incident} was signed by ${first.keyId} (key ${first.publicKeyFingerprint.slice(0, 16)}…); sign with that key, not ${signer.keyId}`,
      continues: true,
    });
}
