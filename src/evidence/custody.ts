/**
 * The custody log: one write-once object per time someone verifies or releases the evidence, so the
 * chain of custody shows every touch. Entries are hash-chained like the journal (`seq`, and `prev` =
 * SHA-256 of the previous entry's stored bytes) and signed like seals when the actor has a key
 * (`<entry>.sig.json`). Appending is best effort for readers with read-only access.
 */
import { KeyExistsError } from '../core/errors.js';
import type { EvidenceStore, JsonObject } from '../core/types.js';
import type { SignerRecord } from '../core/events.js';
import { localOperator } from '../core/tool-info.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { GENESIS_HASH } from './journal.js';
import { checkSignature, signRecord, type SignatureRecord, type Signer } from './signing.js';
import { streamToString } from './store-journal.js';
import { custodyEntryKey, custodyPrefix } from './store-keys.js';

export const CUSTODY_SCHEMA = 'holdfast/custody@1';

export interface CustodyEntry {
  schema: typeof CUSTODY_SCHEMA;
  incident: string;
  /** 1, 2, 3… in the order written; also the first part of the key. */
  seq: number;
  /** SHA-256 of the previous entry's stored bytes (64 zeros for the first). */
  prev: string;
  action: 'verify' | 'release';
  at: string;
  actor: JsonObject;
  detail: JsonObject;
}

export { custodyPrefix };

/** Attempts when another writer took the same sequence number meanwhile. */
const CUSTODY_APPEND_ATTEMPTS = 3;

/** The custody entries of an incident, in order (signatures beside them are not entries). */
async function custodyKeys(store: EvidenceStore, incident: string): Promise<string[]> {
  return (await store.list(custodyPrefix(incident)))
    .filter((k) => k.endsWith('.json') && !k.endsWith('.sig.json'))
    .sort();
}

/** Append a custody entry (signed, with a signer); returns its key, or the reason it could not be written. */
export async function appendCustody(
  store: EvidenceStore,
  incident: string,
  action: 'verify' | 'release',
  detail: JsonObject,
  options: { actor?: JsonObject; signer?: Signer } = {},
): Promise<{ key?: string; error?: string }> {
  let lastError = '';
  for (let attempt = 0; attempt < CUSTODY_APPEND_ATTEMPTS; attempt++) {
    try {
      const keys = await custodyKeys(store, incident);
      const last = keys.at(-1);
      const prev = last ? sha256Hex(await streamToString(await store.get(last))) : GENESIS_HASH;
      const at = new Date().toISOString();
      const entry: CustodyEntry = {
        schema: CUSTODY_SCHEMA,
        incident,
        seq: keys.length + 1,
        prev,
        action,
        at,
        actor: options.actor ?? localOperator(),
        detail,
      };
      const key = custodyEntryKey(incident, entry.seq, action, at);
      const text = `${canonicalJson(entry)}\n`;
      await store.put(key, text, { contentType: 'application/json' });
      if (options.signer) {
        const record = await signRecord(options.signer, {
          kind: 'custody',
          incident,
          recordKey: key,
          recordSha256: sha256Hex(text),
        });
        await store.put(`${key}.sig.json`, `${JSON.stringify(record, null, 2)}\n`, {
          contentType: 'application/json',
        });
      }
      return { key };
    } catch (error) {
      lastError = (error as Error).message;
      if (!(error instanceof KeyExistsError)) break;
    }
  }
  return { error: lastError };
}

/**
 * Check the custody log: each entry parses, is canonical, counts up from 1 and chains to the one
 * before; each signature beside an entry verifies; a release entry of a signed incident is signed by
 * the journal's signer. Returns the first problem's entry and text, or a summary.
 */
export async function checkCustodyLog(
  store: EvidenceStore,
  incident: string,
  journalSigner: SignerRecord | undefined,
): Promise<{ ok: boolean; id: string; detail: string }> {
  const keys = await custodyKeys(store, incident);
  const all = new Set(await store.list(custodyPrefix(incident)));
  let prev = GENESIS_HASH;
  let signed = 0;
  for (const [index, key] of keys.entries()) {
    const text = await streamToString(await store.get(key));
    const fail = (detail: string) => ({ ok: false, id: key, detail });
    let entry: CustodyEntry;
    try {
      entry = JSON.parse(text) as CustodyEntry;
    } catch {
      return fail('not JSON');
    }
    if (`${canonicalJson(entry)}\n` !== text) return fail('not in canonical form (edited?)');
    if (entry.seq !== index + 1) return fail(`seq ${entry.seq}, expected ${index + 1} (an entry removed or added?)`);
    if (entry.prev !== prev) return fail(`prev hash does not match entry ${index} (an earlier entry was edited?)`);
    if (entry.incident !== incident) return fail(`entry is for incident ${entry.incident}`);
    const sha256 = sha256Hex(text);
    if (all.has(`${key}.sig.json`)) {
      let record: SignatureRecord;
      try {
        record = JSON.parse(await streamToString(await store.get(`${key}.sig.json`))) as SignatureRecord;
      } catch (error) {
        return fail(`signature unreadable: ${(error as Error).message}`);
      }
      const result = checkSignature(record, {
        kind: 'custody',
        incident,
        recordSha256: sha256,
        ...(entry.action === 'release' && journalSigner ? { signer: journalSigner } : {}),
      });
      if (!result.ok) return fail(result.detail);
      signed++;
    } else if (entry.action === 'release' && journalSigner) {
      return fail(`release entry is not signed, but the journal records signer ${journalSigner.keyId}`);
    }
    prev = sha256;
  }
  return {
    ok: true,
    id: custodyPrefix(incident),
    detail: keys.length
      ? `${keys.length} entries, chain intact, ${signed} signed; head ${prev.slice(0, 16)}…`
      : 'no entries',
  };
}
