/**
 * Signatures over seal records (manifests, release records) and custody entries. The signed bytes
 * are SHA-256 of a domain-separated message binding kind, incident, the record's SHA-256 and the
 * signer's key id (`signedMessage`). Local keys are Ed25519; KMS keys (providers/kms-signer) are
 * ECDSA P-256. The public key is stored beside the signature and the signer is journaled when a
 * run starts, so verify can compare them offline; pin a key with `--public-key` to trust it.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  createHash,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { BadInputError } from '../core/errors.js';
import type { SignerRecord } from '../core/events.js';

export const SIGNATURE_SCHEMA = 'holdfast/signature@2';

export type SignatureAlgorithm = 'ed25519' | 'ecdsa-p256-sha256';

/** Something that signs a manifest digest. */
export interface Signer {
  algorithm: SignatureAlgorithm;
  keyId: string;
  publicKeyPem(): Promise<string>;
  /** Sign 32 bytes: SHA-256 of the signed message. */
  sign(digest: Buffer): Promise<Buffer>;
}

/** What is stored beside a signed record (`<record key>.sig.json`). */
export interface SignatureRecord {
  schema: typeof SIGNATURE_SCHEMA;
  kind: SignedKind;
  incident: string;
  recordKey: string;
  /** Hex SHA-256 of the record's bytes as stored. */
  recordSha256: string;
  algorithm: SignatureAlgorithm;
  keyId: string;
  publicKey: string;
  /** SHA-256 of the public key's DER, to compare with a pinned key. */
  publicKeyFingerprint: string;
  /** The signed message, for the reader; verify rebuilds it rather than trusting this copy. */
  message: string;
  /** Base64: Ed25519 (64 bytes) or ECDSA P-256 DER, over SHA-256(message). */
  signature: string;
}

const SIGNATURE_TEXT_MEMBERS = [
  'schema',
  'kind',
  'incident',
  'recordKey',
  'recordSha256',
  'algorithm',
  'keyId',
  'publicKey',
  'publicKeyFingerprint',
  'message',
  'signature',
] as const;

/** Whether JSON read from a file (a saved plan's `signature`) has a signature record's members, all text. */
export function isSignatureRecord(value: unknown): value is SignatureRecord {
  return (
    value !== null &&
    typeof value === 'object' &&
    SIGNATURE_TEXT_MEMBERS.every((k) => typeof (value as Record<string, unknown>)[k] === 'string')
  );
}

/** Fingerprint of a public key: hex SHA-256 of its SPKI DER. */
export function publicKeyFingerprint(pem: string): string {
  return createHash('sha256')
    .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** A signer from a local Ed25519 private key file (PEM, readable by its owner only); problems name the file. */
export function localSigner(path: string): Signer {
  const refuse = (message: string) => new BadInputError({ field: path, message });
  if (!existsSync(path)) throw refuse('no such file (make one with `evidence keygen`)');
  if ((statSync(path).mode & 0o077) !== 0) throw refuse('readable by others; chmod 600 it');
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch {
    throw refuse('not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw refuse(`expected an Ed25519 key, got ${key.asymmetricKeyType}`);
  const publicPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return {
    algorithm: 'ed25519',
    keyId: `local:${publicKeyFingerprint(publicPem).slice(0, 16)}`,
    publicKeyPem: async () => publicPem,
    sign: async (digest) => sign(null, digest, key),
  };
}

/** Write a new Ed25519 key pair: `<path>` (0600) and `<path>.pub`. Refuses to overwrite. */
export function generateSigningKey(path: string): { privateKey: string; publicKey: string; fingerprint: string } {
  for (const p of [path, `${path}.pub`])
    if (existsSync(p))
      throw new BadInputError({ field: p, message: 'exists; refusing to overwrite a key', continues: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  writeFileSync(`${path}.pub`, publicPem, { mode: 0o644, flag: 'wx' });
  return { privateKey: path, publicKey: `${path}.pub`, fingerprint: publicKeyFingerprint(publicPem) };
}

/** What a signature may cover: a capture's manifest, a release record, a custody-log entry, a reviewed plan. */
export type SignedKind = 'manifest' | 'release' | 'custody' | 'plan';

/** The signer as the journal records it when a run starts, so verify can compare without a pinned key. */
export type SignerRef = SignerRecord;

/** The signer's reference for the journal (reads the public key; for KMS, one GetPublicKey call). */
export async function signerRef(signer: Signer): Promise<SignerRef> {
  return {
    keyId: signer.keyId,
    algorithm: signer.algorithm,
    publicKeyFingerprint: publicKeyFingerprint(await signer.publicKeyPem()),
  };
}

/**
 * The exact signed message (docs/evidence-format.md): a domain tag, then what the signature is for,
 * for which incident, the SHA-256 of the record's stored bytes, and the signing key's id, one per line.
 * Binding all four stops a signature from being moved to another record, incident or key id.
 */
export function signedMessage(kind: SignedKind, incident: string, recordSha256: string, keyId: string): string {
  return `${SIGNED_MESSAGE_DOMAIN}\nkind=${kind}\nincident=${incident}\nsha256=${recordSha256}\nsigner=${keyId}\n`;
}

/** First line of every signed message: never the start of anything else holdfast hashes. */
export const SIGNED_MESSAGE_DOMAIN = 'holdfast-signature-v2';

/** Sign a stored record (its bytes' SHA-256) into a signature record. */
export async function signRecord(
  signer: Signer,
  what: { kind: SignedKind; incident: string; recordKey: string; recordSha256: string },
): Promise<SignatureRecord> {
  const publicKey = await signer.publicKeyPem();
  const message = signedMessage(what.kind, what.incident, what.recordSha256, signer.keyId);
  // Ed25519 signs these 32 bytes; KMS signs them as a RAW message (ECDSA over SHA-256 of them).
  const signature = await signer.sign(createHash('sha256').update(message).digest());
  return {
    schema: SIGNATURE_SCHEMA,
    kind: what.kind,
    incident: what.incident,
    recordKey: what.recordKey,
    recordSha256: what.recordSha256,
    algorithm: signer.algorithm,
    keyId: signer.keyId,
    publicKey,
    publicKeyFingerprint: publicKeyFingerprint(publicKey),
    message,
    signature: signature.toString('base64'),
  };
}

/**
 * Check a signature record: it is for this record, incident and kind; its key is the signer the
 * journal recorded (when one is expected) and the pinned key (when given); the signature verifies
 * over SHA-256 of the message rebuilt from those facts, not the message text the record carries.
 */
export function checkSignature(
  record: SignatureRecord,
  expected: {
    kind: SignedKind;
    incident: string;
    recordSha256: string;
    signer?: SignerRef;
    pinnedPublicKeyPem?: string;
  },
): { ok: boolean; detail: string } {
  if (record.schema !== SIGNATURE_SCHEMA)
    return { ok: false, detail: `signature record schema ${String(record.schema)}, expected ${SIGNATURE_SCHEMA}` };
  if (record.recordSha256 !== expected.recordSha256)
    return { ok: false, detail: `signature is for a different ${expected.kind} digest` };
  if (record.kind !== expected.kind || record.incident !== expected.incident)
    return { ok: false, detail: `signature is for ${record.kind} of ${record.incident}, not this ${expected.kind}` };
  let fingerprint: string;
  try {
    fingerprint = publicKeyFingerprint(record.publicKey);
  } catch (error) {
    return { ok: false, detail: `signature unreadable: ${(error as Error).message}` };
  }
  if (expected.pinnedPublicKeyPem && publicKeyFingerprint(expected.pinnedPublicKeyPem) !== fingerprint) {
    return { ok: false, detail: 'signed with a key other than the pinned --public-key' };
  }
  if (
    expected.signer &&
    (expected.signer.publicKeyFingerprint !== fingerprint || expected.signer.keyId !== record.keyId)
  ) {
    return {
      ok: false,
      detail: `signed by ${record.keyId} (key ${fingerprint.slice(0, 16)}…), but the journal records signer ${expected.signer.keyId} (key ${expected.signer.publicKeyFingerprint.slice(0, 16)}…)`,
    };
  }
  let valid: boolean;
  try {
    const key = createPublicKey(record.publicKey);
    const digest = createHash('sha256')
      .update(signedMessage(expected.kind, expected.incident, expected.recordSha256, record.keyId))
      .digest();
    const sig = Buffer.from(record.signature, 'base64');
    valid = record.algorithm === 'ed25519' ? verify(null, digest, key, sig) : verify('sha256', digest, key, sig);
  } catch (error) {
    return { ok: false, detail: `signature unreadable: ${(error as Error).message}` };
  }
  return valid
    ? {
        ok: true,
        detail: `${record.algorithm} signature by ${record.keyId} (key ${fingerprint.slice(0, 16)}…) is valid`,
      }
    : { ok: false, detail: `${record.algorithm} signature does not verify` };
}
