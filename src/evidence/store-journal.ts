/** The journal copies in the evidence store: a machine without the local journal continues from them. */
import type { Readable } from 'node:stream';
import { journalPrefix } from './store-keys.js';
import { sha256Hex } from './canonical-json.js';
import type { EvidenceStore } from '../core/types.js';

/** A journal copy as a seal pins it: verify reads exactly this version and checks its size and hash. */
export interface JournalCopyPin {
  key: string;
  size: number;
  sha256: string;
  /** S3 VersionId (absent on stores without versions). */
  versionId?: string;
}

/**
 * Pin every journal copy now in the store that is a beginning of `journalText` (the journal about to
 * be sealed). A copy that is not is left unpinned and returned in `strays`, for the caller to report.
 */
export async function pinJournalCopies(
  store: EvidenceStore,
  incident: string,
  journalText: string,
): Promise<{ pins: JournalCopyPin[]; strays: string[] }> {
  const pins: JournalCopyPin[] = [];
  const strays: string[] = [];
  for (const key of (await store.list(journalPrefix(incident))).filter((k) => k.endsWith('.ndjson'))) {
    const head = await store.head(key);
    const text = await streamToString(await store.get(key, head?.versionId));
    if (!journalText.startsWith(text)) {
      strays.push(key);
      continue;
    }
    pins.push({
      key,
      size: Buffer.byteLength(text),
      sha256: sha256Hex(text),
      ...(head?.versionId ? { versionId: head.versionId } : {}),
    });
  }
  return { pins, strays };
}

/** Every journal copy in the store, and the newest: the longest, since each copy extends the one before. */
export async function journalCopies(
  store: EvidenceStore,
  incident: string,
): Promise<{ copies: { key: string; text: string }[]; newest?: { key: string; text: string } }> {
  const keys = (await store.list(journalPrefix(incident))).filter((k) => k.endsWith('.ndjson'));
  const copies: { key: string; text: string }[] = [];
  for (const key of keys) copies.push({ key, text: await streamToString(await store.get(key)) });
  // Not the last key by name: two seals in the same second sort by head hash, not by age.
  const newest = copies.reduce<{ key: string; text: string } | undefined>(
    (best, c) => (!best || c.text.length > best.text.length ? c : best),
    undefined,
  );
  return { copies, ...(newest ? { newest } : {}) };
}

/** The newest journal copy in the store, or '' when none: sized by head, so only that one is read. */
export async function readJournalFromStore(store: EvidenceStore, incident: string): Promise<string> {
  const keys = (await store.list(journalPrefix(incident))).filter((k) => k.endsWith('.ndjson'));
  let newest: { key: string; size: number } | undefined;
  for (const key of keys) {
    const found = await store.head(key);
    if (found && (!newest || found.size > newest.size)) newest = { key, size: found.size };
  }
  return newest ? streamToString(await store.get(newest.key)) : '';
}

/** Collect a stream into a string (for small JSON documents only). */
export async function streamToString(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
