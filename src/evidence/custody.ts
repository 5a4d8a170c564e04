/**
 * The custody log: one write-once object per time someone verifies or releases the evidence, so the
 * chain of custody shows every touch. Appending is best effort for readers with read-only access.
 */
import { randomBytes } from 'node:crypto';
import type { EvidenceStore, JsonObject } from '../core/types.js';
import { localOperator } from '../core/tool-info.js';

export const CUSTODY_SCHEMA = 'holdfast/custody@1';

/** Append a custody entry; returns its key, or the reason it could not be written. */
export async function appendCustody(
  store: EvidenceStore,
  incident: string,
  action: 'verify' | 'release',
  detail: JsonObject,
  actor: JsonObject = localOperator(),
): Promise<{ key?: string; error?: string }> {
  const at = new Date().toISOString();
  const key = `${incident}/custody/${at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${action}-${randomBytes(3).toString('hex')}.json`;
  try {
    await store.put(
      key,
      `${JSON.stringify({ schema: CUSTODY_SCHEMA, incident, action, at, actor, detail }, null, 2)}\n`,
      { contentType: 'application/json' },
    );
    return { key };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
