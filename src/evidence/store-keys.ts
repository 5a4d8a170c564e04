/** Where things live in an evidence store, relative to the store's root. One place, so verify finds them. */
import { join } from 'node:path';
import type { StoreSpec } from '../core/types.js';

/** Characters allowed in a key segment; anything else becomes `_`. */
function keySegment(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
}

/**
 * Key of an artifact's bytes: `<incident>/artifacts/<step>/<name>`. `copy` n > 0 names the n-th copy
 * beside bytes a crashed run stored without journaling them (`<name>~n`): those are never overwritten.
 */
export function artifactKey(incident: string, stepId: string, name: string, copy = 0): string {
  return `${incident}/artifacts/${keySegment(stepId)}/${keySegment(name)}${copy ? `~${copy}` : ''}`;
}

/** Prefix of an incident's custody entries. */
export function custodyPrefix(incident: string): string {
  return `${incident}/custody/`;
}

/** Key of one custody entry: sequence number first, so listing order is custody order. */
export function custodyEntryKey(incident: string, seq: number, action: string, at: string): string {
  const stamp = at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${custodyPrefix(incident)}${String(seq).padStart(6, '0')}-${action}-${stamp}.json`;
}

/** Prefix under which an incident's manifests lie. */
export function manifestPrefix(incident: string): string {
  return `${incident}/manifest/`;
}

/** Prefix under which an incident's journal copies lie (one per seal or release). */
export function journalPrefix(incident: string): string {
  return `${incident}/journal/`;
}

/** Keys for one seal: named by time and journal head, so every seal writes new, never-overwritten keys. */
export function sealKeys(
  incident: string,
  journalHead: string,
  sealedAt: string,
): { journal: string; manifest: string } {
  const stamp = sealedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return {
    journal: `${journalPrefix(incident)}${stamp}-${journalHead.slice(0, 12)}.ndjson`,
    manifest: `${manifestPrefix(incident)}${stamp}-${journalHead.slice(0, 12)}.json`,
  };
}

/** Key of the journal copy written when a phase ends mid-capture (the seal writes the final one). */
export function phaseCheckpointKey(incident: string, phase: string, journalHead: string, at: string): string {
  const stamp = at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${journalPrefix(incident)}${stamp}-${phase}-${journalHead.slice(0, 12)}.ndjson`;
}

/** Keys for one release seal: its record and the journal copy that ends with `release.sealed`. */
export function releaseSealKeys(
  incident: string,
  journalHead: string,
  sealedAt: string,
): { journal: string; record: string } {
  const stamp = sealedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return {
    journal: `${journalPrefix(incident)}${stamp}-release-${journalHead.slice(0, 12)}.ndjson`,
    record: `${incident}/release/${stamp}-${journalHead.slice(0, 12)}.json`,
  };
}

/** A store spec as people read it: an absolute folder or a full s3:// URI. */
export function describeStoreSpec(spec: StoreSpec): string {
  return spec.kind === 'fs' ? spec.dir : `s3://${spec.bucket}${spec.prefix ? `/${spec.prefix}` : ''}`;
}

/** Where a store key lies, as people need it: an absolute file path or a full s3:// URI. */
export function storeObjectLocation(spec: StoreSpec, key: string): string {
  return spec.kind === 'fs' ? join(spec.dir, key) : `${describeStoreSpec(spec)}/${key}`;
}
