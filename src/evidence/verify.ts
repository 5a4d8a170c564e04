/**
 * Verify an incident's evidence from the store alone (docs/evidence-format.md, "Verification"): the
 * journal chain and its copies (pinned ones read at their pinned versions), that every event is
 * covered by a seal, each seal's record (manifest or release record) against its digest, its
 * signature against the signer the journal records, its content against a re-fold of the journal,
 * every stored artifact's bytes by the version recorded, platform-held evidence (online only) and
 * the custody log.
 */
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { BadInputError } from '../core/errors.js';
import { assertIncidentId } from '../core/incident-id.js';
import type { CaptureEvent } from '../core/events.js';
import { journalCopies, readJournalFromStore, streamToString, type JournalCopyPin } from './store-journal.js';
import { hashReadable } from './hash.js';
import { checkJournalChain, type JournalLine } from './journal.js';
import { foldManifest, type Manifest } from './manifest.js';
import { foldReleaseRecord, type ReleaseRecord } from './release-record.js';
import { firstSigner, isSealLine, sealRef, signerFor, type SealRef } from './seals.js';
import { journalPrefix } from './store-keys.js';
import { checkSignature, type SignatureRecord } from './signing.js';
import { checkCustodyLog } from './custody.js';
import type { ArtifactRecord, EvidenceStore, HeldEvidenceResult, JsonObject } from '../core/types.js';

export interface VerifyItem {
  kind: 'journal' | 'seal' | 'manifest' | 'release' | 'artifact' | 'signature' | 'custody';
  id: string;
  /** true only when checked and found as recorded. */
  ok: boolean;
  /**
   * Three outcomes, and a fourth that is no check at all: `ok` checked and as recorded; `failed`
   * checked and not as recorded (tampering, or evidence gone); `could-not-check` tried, but an API,
   * transport or access error left no finding either way (never tampering: check again);
   * `not-checked` out of reach by design here (platform-held evidence offline, versions a folder
   * cannot show); never a pass.
   */
  status: 'ok' | 'failed' | 'could-not-check' | 'not-checked';
  detail: string;
}

const REPORT_ORDER: VerifyItem['kind'][] = [
  'artifact',
  'journal',
  'manifest',
  'release',
  'seal',
  'signature',
  'custody',
];

export interface VerifyReport {
  /** No item failed (items not checked offline do not fail, and are counted in `notChecked`). */
  ok: boolean;
  incident: string;
  manifestKey?: string;
  notChecked: number;
  /** Items an error kept from being checked: no finding, but no pass either. */
  couldNotCheck: number;
  items: VerifyItem[];
}

/** An online check of evidence the platform holds (a snapshot); undefined when no provider knows the type. */
export type HeldEvidenceCheck = (artifact: ArtifactRecord) => Promise<HeldEvidenceResult | undefined>;

export interface VerifyOptions {
  /** Trust only signatures by this key. */
  publicKeyPem?: string;
  requireSignature?: boolean;
  /** Online checks of platform-held evidence; without one, each is reported "not checked (offline)". */
  checkHeld?: HeldEvidenceCheck;
}

type Item = Omit<VerifyItem, 'status'> & { status?: VerifyItem['status'] };

/**
 * Check everything recorded for `incident` in `store`. Never throws for a mismatch: it reports it.
 * Throws BadInputError when the store holds no journal for the incident (nothing to verify is not tampering).
 */
export async function verifyEvidence(
  store: EvidenceStore,
  incident: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  // The id becomes store keys: a caller's bad id is named, never read as a path.
  assertIncidentId(incident);
  const items: VerifyItem[] = [];
  const add = (item: Item) => items.push({ ...item, status: item.status ?? (item.ok ? 'ok' : 'failed') });
  let manifestKey: string | undefined;
  // Reported in the order a reader checks evidence: the bytes, the chain, the records, their digests, signatures.
  const report = (): VerifyReport => ({
    ok: items.length > 0 && items.every((i) => i.status !== 'failed'),
    incident,
    ...(manifestKey ? { manifestKey } : {}),
    notChecked: items.filter((i) => i.status === 'not-checked').length,
    couldNotCheck: items.filter((i) => i.status === 'could-not-check').length,
    items: [...items].sort((a, b) => REPORT_ORDER.indexOf(a.kind) - REPORT_ORDER.indexOf(b.kind)),
  });

  const { copies, newest } = await journalCopies(store, incident);
  if (!newest)
    throw new BadInputError({
      field: 'incident',
      message: `${incident}: no journal in ${store.description} (looked for ${journalPrefix(incident)}*.ndjson)`,
      continues: true,
    });
  const chain = checkJournalChain(newest.text);
  const events = chain.events;
  const journalProblems: { id: string; detail: string }[] = [];
  if (!chain.ok) journalProblems.push({ id: newest.key, detail: chain.problems.join('; ') });
  // Every copy (one per phase, seal or release) must be a beginning of the newest: anything else is a fork or an edit.
  const forked = copies.filter((c) => !newest.text.startsWith(c.text)).map((c) => c.key);
  if (forked.length)
    journalProblems.push({ id: newest.key, detail: `copies that do not extend into the newest: ${forked.join(', ')}` });

  const sealIndexes = events.flatMap((e, i) => (isSealLine(e) ? [i] : []));
  const lastSeal = sealIndexes.at(-1);
  if (lastSeal === undefined) {
    add({ kind: 'seal', id: newest.key, ok: false, detail: 'the journal has no seal (capture never finished)' });
  } else if (lastSeal < events.length - 1) {
    const tail = events.slice(lastSeal + 1);
    journalProblems.push({
      id: newest.key,
      detail: `unsealed tail: ${tail.length === 1 ? `line ${events.length}` : `lines ${lastSeal + 2}–${events.length}`} (${[...new Set(tail.map((e) => e.type))].join(', ')}) follow the last seal (line ${lastSeal + 1}) and are covered by no seal — appended after sealing, or a run that stopped before its seal (run it again to seal)`,
    });
  } else if (sealRef(events[lastSeal] as SealLineT).journalKey !== newest.key) {
    journalProblems.push({
      id: newest.key,
      detail: `the newest copy is not the one the last seal names (${sealRef(events[lastSeal] as SealLineT).journalKey})`,
    });
  }

  const first = firstSigner(events);
  const pinned = new Map<string, JournalCopyPin>();
  let lastManifest: Manifest | undefined;
  if (chain.ok) {
    for (const [n, index] of sealIndexes.entries()) {
      const line = events[index] as SealLineT;
      const ref = sealRef(line);
      const text = await checkSealDigest(store, ref, add);
      const signer = signerFor(events, index);
      add(
        await checkSealSignature(
          store,
          incident,
          ref,
          text,
          signer,
          first && first.index < index ? first.signer : undefined,
          options,
        ),
      );
      if (text === undefined) continue;
      const previousSeal = n > 0 ? sealIndexes[n - 1]! : -1;
      const record = checkRecordContent(ref, text, events.slice(0, index), line.prev, previousSeal + 1, incident, add);
      for (const pin of record?.journal?.copies ?? []) pinned.set(`${pin.key}@${pin.versionId ?? ''}`, pin);
      if (ref.kind === 'manifest' && record) {
        lastManifest = record as Manifest;
        manifestKey = ref.recordKey;
      }
    }
  }
  // Pinned copies: exactly the recorded version, size and hash; a newer version of a sealed copy is tampering.
  for (const pin of pinned.values()) {
    const problem = await checkPinnedCopy(store, pin, newest.text);
    if (problem) journalProblems.push({ id: pin.key, detail: problem });
  }
  if (journalProblems.length) for (const p of journalProblems) add({ kind: 'journal', ok: false, ...p });
  else
    add({
      kind: 'journal',
      id: newest.key,
      ok: true,
      detail: `${events.length} events, chain intact, every event sealed, head ${chain.head.slice(0, 16)}…; ${copies.length} stored ${copies.length === 1 ? 'copy' : 'copies'} consistent, ${pinned.size} pinned by seals and read at their pinned versions`,
    });

  // By id, not journal order: parallel steps journal in any order, and a report should read the same every time.
  const artifacts = [...(lastManifest?.artifacts ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const artifact of artifacts) add(await checkArtifact(store, artifact, options.checkHeld));

  const unversioned = await uncheckableVersions(store, newest.key, events, [...pinned.values()], artifacts);
  if (unversioned)
    add({
      kind: 'journal',
      id: `${incident}/`,
      ok: false,
      status: 'not-checked',
      detail: `${unversioned} recorded S3 versions (and their locks): not checked (this store keeps one version per key; verify the bucket itself)`,
    });
  const custody = await checkCustodyLog(store, incident, first?.signer);
  if (!custody.ok || custody.detail !== 'no entries') add({ kind: 'custody', ...custody });
  return report();
}

type SealLineT = Extract<JournalLine, { type: 'capture.sealed' | 'release.sealed' }>;

/** The record's stored bytes against the digest the seal line journaled. Returns the text when readable. */
async function checkSealDigest(
  store: EvidenceStore,
  ref: SealRef,
  add: (i: Item) => void,
): Promise<string | undefined> {
  let text: string;
  try {
    text = await readWhole(store, ref.recordKey, ref.recordVersionId);
  } catch (error) {
    add({
      kind: 'seal',
      id: ref.recordKey,
      ok: false,
      detail: `cannot read the ${ref.kind === 'manifest' ? 'manifest' : 'release record'}: ${(error as Error).message}`,
    });
    return undefined;
  }
  // Hash exactly the stored bytes; a re-serialisation would hide edits.
  const sha256 = sha256Hex(text);
  const current = await isCurrentVersion(store, ref.recordKey, ref.recordVersionId);
  const ok = sha256 === ref.recordSha256 && current;
  const what = ref.kind === 'manifest' ? 'manifest' : 'release record';
  add({
    kind: 'seal',
    id: ref.recordKey,
    ok,
    detail: ok
      ? `${what} sha256 ${sha256} matches the sealed journal`
      : sha256 !== ref.recordSha256
        ? `${what} sha256 ${sha256} differs from the sealed ${ref.recordSha256}`
        : `a newer version of the ${what} replaced the sealed one`,
  });
  return text;
}

/**
 * The signature beside a seal record. Checked against the signer the journal records for that run
 * (even without --public-key) and the pinned key; once a signer is journaled, every later seal must
 * be signed by it, so an unsigned seal appended later fails.
 */
async function checkSealSignature(
  store: EvidenceStore,
  incident: string,
  ref: SealRef,
  text: string | undefined,
  runSigner: ReturnType<typeof signerFor>,
  mustMatch: ReturnType<typeof signerFor>,
  options: VerifyOptions,
): Promise<Item> {
  if (!ref.signatureKey) {
    const why = mustMatch
      ? `the journal records signer ${mustMatch.keyId} before this seal, but it is not signed`
      : runSigner
        ? `the run journaled signer ${runSigner.keyId}, but its seal is not signed`
        : options.requireSignature || options.publicKeyPem
          ? `the ${ref.kind} is not signed, but a signature is required`
          : undefined;
    return {
      kind: 'signature',
      id: ref.recordKey,
      ok: !why,
      detail: why ?? 'not signed (the run had no --sign-key or --sign-kms-key)',
    };
  }
  if (!runSigner)
    return {
      kind: 'signature',
      id: ref.signatureKey,
      ok: false,
      detail: 'signed, but the journal records no signer for this run',
    };
  if (mustMatch && mustMatch.publicKeyFingerprint !== runSigner.publicKeyFingerprint)
    return {
      kind: 'signature',
      id: ref.signatureKey,
      ok: false,
      detail: `the run journaled signer ${runSigner.keyId}, not the incident's signer ${mustMatch.keyId}`,
    };
  let record: SignatureRecord;
  try {
    record = JSON.parse(await readWhole(store, ref.signatureKey)) as SignatureRecord;
  } catch (error) {
    return {
      kind: 'signature',
      id: ref.signatureKey,
      ok: false,
      detail: `cannot read the signature: ${(error as Error).message}`,
    };
  }
  const result = checkSignature(record, {
    kind: ref.kind,
    incident,
    recordSha256: text === undefined ? ref.recordSha256 : sha256Hex(text),
    signer: runSigner,
    ...(options.publicKeyPem ? { pinnedPublicKeyPem: options.publicKeyPem } : {}),
  });
  return { kind: 'signature', id: ref.signatureKey, ...result };
}

/** A seal record's content must be exactly what folding the journal before its seal gives. */
function checkRecordContent(
  ref: SealRef,
  text: string,
  before: CaptureEvent[],
  head: string,
  since: number,
  incident: string,
  add: (i: Item) => void,
): Manifest | ReleaseRecord | undefined {
  const kind = ref.kind === 'manifest' ? 'manifest' : 'release';
  let record: Manifest | ReleaseRecord;
  try {
    record = JSON.parse(text) as Manifest | ReleaseRecord;
  } catch {
    add({
      kind,
      id: ref.recordKey,
      ok: false,
      detail: `${kind === 'manifest' ? 'manifest' : 'release record'} is not JSON`,
    });
    return undefined;
  }
  const journal = record.journal;
  const headOk = journal?.events === before.length && journal?.head === head && journal?.key === ref.journalKey;
  const sealed = {
    journalKey: journal?.key ?? '',
    journalHead: journal?.head ?? '',
    copies: journal?.copies ?? [],
  };
  // Re-fold what the journal records and compare; only the record kind and its summary differ.
  let refolded: unknown;
  let summary: () => string; // read only once the record matched: a forged one may lack fields
  let what: string;
  if (ref.kind === 'manifest') {
    const manifest = record as Manifest;
    refolded = foldManifest(manifest.steps ?? [], before, {
      ...sealed,
      store: manifest.store,
      sealedAt: manifest.endedAt,
    });
    summary = () => `${manifest.artifacts.length} artifacts, ${manifest.changes.length} changes`;
    what = 'manifest';
  } else {
    const release = record as ReleaseRecord;
    refolded = foldReleaseRecord(incident, before, since, { ...sealed, sealedAt: release.endedAt });
    summary = () => `${release.restored.length} restored, ${release.failed.length} failed`;
    what = 'release record';
  }
  const same = canonicalJson(refolded) === canonicalJson(record);
  add({
    kind,
    id: ref.recordKey,
    ok: same && headOk,
    detail:
      same && headOk ? `matches the journal (${summary()})` : `${what} content differs from what the journal records`,
  });
  return same && headOk ? record : undefined;
}

async function checkPinnedCopy(store: EvidenceStore, pin: JournalCopyPin, newest: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readWhole(store, pin.key, pin.versionId);
  } catch (error) {
    return `pinned copy cannot be read${pin.versionId ? ` at version ${pin.versionId}` : ''}: ${(error as Error).message}`;
  }
  const sha256 = sha256Hex(text);
  const size = Buffer.byteLength(text);
  if (sha256 !== pin.sha256 || size !== pin.size)
    return `pinned copy sha256 ${sha256} (${size} bytes) differs from the sealed ${pin.sha256} (${pin.size} bytes)`;
  if (!newest.startsWith(text)) return 'pinned copy is not a beginning of the newest journal';
  if (!(await isCurrentVersion(store, pin.key, pin.versionId)))
    return `a newer version of ${pin.key} was written after the seal pinned ${pin.versionId}`;
  return undefined;
}

async function checkArtifact(
  store: EvidenceStore,
  artifact: ArtifactRecord,
  checkHeld?: HeldEvidenceCheck,
): Promise<Item> {
  const key = typeof artifact.location.key === 'string' ? artifact.location.key : undefined;
  if (!key) {
    const where = describeLocation(artifact.location);
    if (!checkHeld)
      return {
        kind: 'artifact',
        id: artifact.id,
        ok: false,
        status: 'not-checked',
        detail: `${artifact.type} held by the platform (${where}): not checked (offline)`,
      };
    try {
      const result = await checkHeld(artifact);
      return result
        ? {
            kind: 'artifact',
            id: artifact.id,
            ok: result.ok,
            detail: result.detail,
            ...(result.couldNotCheck ? { status: 'could-not-check' as const } : {}),
          }
        : {
            kind: 'artifact',
            id: artifact.id,
            ok: false,
            status: 'not-checked',
            detail: `${artifact.type} (${where}): no online check for this type`,
          };
    } catch (error) {
      // The platform could not be asked (credentials, network, an API error): no finding either way.
      return {
        kind: 'artifact',
        id: artifact.id,
        ok: false,
        status: 'could-not-check',
        detail: `could not check ${where}: ${(error as Error).message}`,
      };
    }
  }
  const versionId = typeof artifact.location.versionId === 'string' ? artifact.location.versionId : undefined;
  const storeKey = key;
  try {
    const { sha256: actual, size } = await hashReadable(await store.get(storeKey, versionId));
    const current = await isCurrentVersion(store, storeKey, versionId);
    const weakened = await weakenedProtection(store, storeKey, versionId, artifact.preservation);
    const ok = actual === artifact.sha256 && size === artifact.size && current && !weakened;
    return {
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
    };
  } catch (error) {
    // Gone from the store is a finding; a read that failed while the object is there (or while the
    // store cannot even say) is not.
    const present = await store.head(storeKey).then(
      (h) => h !== undefined,
      () => undefined,
    );
    return present === false
      ? { kind: 'artifact', id: artifact.id, ok: false, detail: `${key} is missing from the store` }
      : {
          kind: 'artifact',
          id: artifact.id,
          ok: false,
          status: 'could-not-check',
          detail: `could not read ${key}: ${(error as Error).message}`,
        };
  }
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

/** The newest manifest key of an incident, if any. */
export async function latestManifestKey(store: EvidenceStore, incident: string): Promise<string | undefined> {
  // From the newest journal's last seal, not the last key by name: keys of one second sort by hash.
  const seal = [...checkJournalChain(await readJournalFromStore(store, incident)).events]
    .reverse()
    .find((e) => e.type === 'capture.sealed');
  return seal?.type === 'capture.sealed' ? seal.manifestKey : undefined;
}

async function readWhole(store: EvidenceStore, key: string, versionId?: string): Promise<string> {
  return streamToString(await store.get(key, versionId));
}

/**
 * A write-once key must still show the version that was recorded. A store that keeps no versions (a
 * folder downloaded from S3) cannot tell: that is reported once as not checked, never as tampering.
 */
async function isCurrentVersion(store: EvidenceStore, key: string, versionId?: string): Promise<boolean> {
  if (!versionId) return true;
  const head = await store.head(key);
  return head !== undefined && (head.versionId === undefined || head.versionId === versionId);
}

/** How many recorded S3 versions a store without versions cannot check (0 when it has versions or none are recorded). */
async function uncheckableVersions(
  store: EvidenceStore,
  newestKey: string,
  events: readonly CaptureEvent[],
  pins: readonly JournalCopyPin[],
  artifacts: readonly ArtifactRecord[],
): Promise<number> {
  if ((await store.head(newestKey))?.versionId !== undefined) return 0;
  const seals = events.filter((e) => isSealLine(e) && sealRef(e).recordVersionId).length;
  return (
    seals +
    pins.filter((p) => p.versionId).length +
    artifacts.filter((a) => typeof a.location.versionId === 'string').length
  );
}

function describeLocation(location: Record<string, unknown>): string {
  return Object.entries(location)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}
