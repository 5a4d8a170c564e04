/**
 * Verify an incident's evidence from the store alone: the journal chain, the seal that links the
 * manifest's digest into that chain, the manifest against a re-fold of the journal, and every
 * artifact's bytes re-hashed by the version that was recorded.
 */
import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { CaptureEvent } from '../core/events.js';
import { journalCopies, readJournalFromStore, streamToString } from './store-journal.js';
import { hashReadable } from './hash.js';
import { checkJournalChain, type JournalLine } from './journal.js';
import { foldManifest, type Manifest } from './manifest.js';
import { journalPrefix } from './store-keys.js';
import { checkSignature, type SignatureRecord } from './signing.js';
import type { EvidenceStore, JsonObject, Step } from '../core/types.js';

export interface VerifyItem {
  kind: 'journal' | 'seal' | 'manifest' | 'artifact' | 'signature';
  id: string;
  ok: boolean;
  detail: string;
}

const REPORT_ORDER: VerifyItem['kind'][] = ['artifact', 'journal', 'manifest', 'seal', 'signature'];

export interface VerifyReport {
  ok: boolean;
  incident: string;
  manifestKey?: string;
  items: VerifyItem[];
}

/** Check everything recorded for `incident` in `store`. Never throws for a mismatch: it reports it. */
export async function verifyEvidence(
  store: EvidenceStore,
  incident: string,
  options: { publicKeyPem?: string; requireSignature?: boolean } = {},
): Promise<VerifyReport> {
  const items: VerifyItem[] = [];
  // Reported in the order a reader checks evidence: the bytes, the chain, the manifest, its digest, the signature.
  const report = (): VerifyReport => ({
    ok: items.length > 0 && items.every((i) => i.ok),
    incident,
    items: [...items].sort((a, b) => REPORT_ORDER.indexOf(a.kind) - REPORT_ORDER.indexOf(b.kind)),
    ...(manifestKey ? { manifestKey } : {}),
  });
  let manifestKey: string | undefined;

  const { copies, newest } = await journalCopies(store, incident);
  if (!newest) {
    items.push({
      kind: 'journal',
      id: journalPrefix(incident),
      ok: false,
      detail: 'no journal in the store for this incident',
    });
    return report();
  }
  const journalKey = newest.key;
  const journalText = newest.text;
  const chain = checkJournalChain(journalText);
  // Every copy (one per seal or release) must be a beginning of the newest: anything else is a fork or an edit.
  const forked = copies.filter((c) => !journalText.startsWith(c.text)).map((c) => c.key);
  items.push({
    kind: 'journal',
    id: journalKey,
    ok: chain.ok && !forked.length && (await isCurrentVersion(store, journalKey)),
    detail: !chain.ok
      ? chain.problems.join('; ')
      : forked.length
        ? `copies that do not extend into the newest: ${forked.join(', ')}`
        : `${chain.events.length} events, chain intact, head ${chain.head.slice(0, 16)}…; ${copies.length} stored ${copies.length === 1 ? 'copy' : 'copies'} consistent`,
  });
  if (!chain.ok) return report();

  const sealIndexes = chain.events.flatMap((e, i) => (e.type === 'capture.sealed' ? [i] : []));
  if (!sealIndexes.length) {
    items.push({ kind: 'seal', id: journalKey, ok: false, detail: 'the journal has no seal (capture never finished)' });
    return report();
  }
  // Every seal is checked (a capture re-run after release seals again); the newest manifest folds
  // the whole journal, so its artifact list is the complete one.
  const sealIndex = sealIndexes.at(-1)!;
  for (const index of sealIndexes.slice(0, -1)) await checkSeal(store, chain.events[index] as SealLine, items, options);
  const sealEvent = chain.events[sealIndex] as SealLine;
  manifestKey = sealEvent.manifestKey;
  const manifestText = await checkSeal(store, sealEvent, items, options);
  if (manifestText === undefined) return report();

  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestText) as Manifest;
  } catch {
    items.push({ kind: 'manifest', id: sealEvent.manifestKey, ok: false, detail: 'manifest is not JSON' });
    return report();
  }
  items.push(
    checkManifestAgainstJournal(manifest, chain.events.slice(0, sealIndex), sealEvent.prev, sealEvent.manifestKey),
  );

  for (const artifact of manifest.artifacts ?? []) {
    if (!artifact.sha256) {
      items.push({
        kind: 'artifact',
        id: artifact.id,
        ok: true,
        detail: `${artifact.type} held by the platform (${describeLocation(artifact.location)}); no bytes to hash`,
      });
      continue;
    }
    const key = String(artifact.location.key ?? '');
    const versionId = typeof artifact.location.versionId === 'string' ? artifact.location.versionId : undefined;
    try {
      const { sha256: actual, size } = await hashReadable(await store.get(key, versionId));
      const current = await isCurrentVersion(store, key, versionId);
      const weakened = await weakenedProtection(store, key, versionId, artifact.preservation);
      const ok = actual === artifact.sha256 && size === artifact.size && current && !weakened;
      items.push({
        kind: 'artifact',
        id: artifact.id,
        ok,
        detail: ok
          ? `sha256 ${actual.slice(0, 16)}… ${size} bytes${lockText(artifact.preservation)}`
          : actual !== artifact.sha256 || size !== artifact.size
            ? `sha256 ${actual} (${size} bytes) differs from recorded ${artifact.sha256} (${artifact.size} bytes)`
            : !current
              ? `a newer version of ${key} replaced the recorded one`
              : `bytes match, but its lock was weakened since capture: ${weakened}`,
      });
    } catch (error) {
      items.push({
        kind: 'artifact',
        id: artifact.id,
        ok: false,
        detail: `cannot read ${key}: ${(error as Error).message}`,
      });
    }
  }
  return report();
}

const lockText = (p: JsonObject | undefined) =>
  p && p.lockMode && p.lockMode !== 'none'
    ? `, locked ${String(p.lockMode)} until ${String(p.retainUntil)}${p.legalHold ? ' + legal hold' : ''}`
    : '';

/**
 * How the lock on a stored version is weaker now than when it was recorded, or undefined. Object
 * Lock can be extended but, in GOVERNANCE mode, also shortened or removed by anyone allowed to
 * bypass it: evidence whose bytes still match but whose lock was loosened is no longer protected.
 */
async function weakenedProtection(
  store: EvidenceStore,
  key: string,
  versionId: string | undefined,
  recorded: JsonObject | undefined,
): Promise<string | undefined> {
  if (!store.protectionOf || !recorded?.lockMode || recorded.lockMode === 'none') return undefined;
  const now = await store.protectionOf(key, versionId);
  if (!now || now.lockMode === 'none') return `recorded ${String(recorded.lockMode)}, now no retention`;
  if (recorded.lockMode === 'COMPLIANCE' && now.lockMode !== 'COMPLIANCE')
    return `recorded COMPLIANCE, now ${now.lockMode}`;
  if (
    typeof recorded.retainUntil === 'string' &&
    (!now.retainUntil || Date.parse(now.retainUntil) < Date.parse(recorded.retainUntil))
  ) {
    return `retention shortened from ${recorded.retainUntil} to ${now.retainUntil ?? 'none'}`;
  }
  if (recorded.legalHold === true && !now.legalHold) return 'legal hold removed';
  return undefined;
}

type SealLine = Extract<JournalLine, { type: 'capture.sealed' }>;

/** One seal: the stored manifest bytes against the digest in the journal, and its signature. Returns the manifest text when readable. */
async function checkSeal(
  store: EvidenceStore,
  sealEvent: SealLine,
  items: VerifyItem[],
  options: { publicKeyPem?: string; requireSignature?: boolean },
): Promise<string | undefined> {
  let manifestText: string;
  try {
    manifestText = await readWhole(store, sealEvent.manifestKey, sealEvent.manifestVersionId);
  } catch (error) {
    items.push({
      kind: 'manifest',
      id: sealEvent.manifestKey,
      ok: false,
      detail: `cannot read: ${(error as Error).message}`,
    });
    return undefined;
  }
  // Hash exactly the stored bytes; a re-serialisation would hide edits.
  const sha256 = sha256Hex(manifestText);
  const sealOk =
    sha256 === sealEvent.manifestSha256 &&
    (await isCurrentVersion(store, sealEvent.manifestKey, sealEvent.manifestVersionId));
  items.push({
    kind: 'seal',
    id: sealEvent.manifestKey,
    ok: sealOk,
    detail: sealOk
      ? `manifest sha256 ${sha256} matches the sealed journal`
      : `manifest sha256 ${sha256} differs from the sealed ${sealEvent.manifestSha256}, or a newer version replaced it`,
  });
  items.push(await checkSealSignature(store, sealEvent, sha256, options));
  return manifestText;
}

/** The signature beside the manifest, if the seal names one (or one is required). */
async function checkSealSignature(
  store: EvidenceStore,
  sealEvent: { signatureKey?: string; manifestKey: string },
  manifestSha256: string,
  options: { publicKeyPem?: string; requireSignature?: boolean },
): Promise<VerifyItem> {
  const key = sealEvent.signatureKey;
  if (!key) {
    const required = Boolean(options.requireSignature || options.publicKeyPem);
    return {
      kind: 'signature',
      id: sealEvent.manifestKey,
      ok: !required,
      detail: required
        ? 'the manifest is not signed, but a signature is required'
        : 'not signed (capture ran without --sign-key or --sign-kms-key)',
    };
  }
  let record: SignatureRecord;
  try {
    record = JSON.parse(await readWhole(store, key)) as SignatureRecord;
  } catch (error) {
    return { kind: 'signature', id: key, ok: false, detail: `cannot read the signature: ${(error as Error).message}` };
  }
  const result = checkSignature(record, manifestSha256, options.publicKeyPem);
  return { kind: 'signature', id: key, ...result };
}

/** The newest manifest key of an incident, if any. */
export async function latestManifestKey(store: EvidenceStore, incident: string): Promise<string | undefined> {
  // From the newest journal's last seal, not the last key by name: keys of one second sort by hash.
  const seal = [...checkJournalChain(await readJournalFromStore(store, incident)).events]
    .reverse()
    .find((e) => e.type === 'capture.sealed');
  return seal?.type === 'capture.sealed' ? seal.manifestKey : undefined;
}

/** The manifest must be exactly what folding the journal up to the seal gives. */
function checkManifestAgainstJournal(
  manifest: Manifest,
  events: CaptureEvent[],
  head: string,
  key: string,
): VerifyItem {
  const steps = (manifest.steps ?? []).map((s) => ({
    ...s,
    provider: '',
    action: '',
    inputs: {},
    dependsOn: [],
  })) as unknown as Step[];
  const refolded = foldManifest(steps, events, {
    store: manifest.store,
    journalKey: manifest.journal?.key ?? '',
    journalHead: manifest.journal?.head ?? '',
    sealedAt: manifest.endedAt,
  });
  const same = canonicalJson(refolded) === canonicalJson(manifest);
  const headOk = manifest.journal?.events === events.length && manifest.journal?.head === head;
  return {
    kind: 'manifest',
    id: key,
    ok: same && headOk,
    detail:
      same && headOk
        ? `matches the journal (${manifest.artifacts.length} artifacts, ${manifest.changes.length} changes)`
        : 'manifest content differs from what the journal records',
  };
}

async function readWhole(store: EvidenceStore, key: string, versionId?: string): Promise<string> {
  return streamToString(await store.get(key, versionId));
}

/** A write-once key must still show the version that was recorded. */
async function isCurrentVersion(store: EvidenceStore, key: string, versionId?: string): Promise<boolean> {
  if (!versionId) return true;
  const head = await store.head(key);
  return head?.versionId === versionId;
}

function describeLocation(location: Record<string, unknown>): string {
  return Object.entries(location)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}
