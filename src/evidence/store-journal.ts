/** The journal copies in the evidence store: a machine without the local journal continues from them. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { journalPrefix } from './store-keys.js';
import type { EvidenceStore } from '../core/types.js';

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

/** With no local journal (another machine, lost disk), continue from the newest copy in the store. */
export async function restoreJournalFromStore(path: string, incident: string, store: EvidenceStore): Promise<void> {
  if (existsSync(path)) return;
  const best = await readJournalFromStore(store, incident);
  if (!best) return;
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, best, { flag: 'wx' });
}

/** Collect a stream into a string (for small JSON documents only). */
export async function streamToString(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
