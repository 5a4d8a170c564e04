/**
 * Manifest signatures. The signed message is always the manifest's 32-byte SHA-256 digest, so the
 * signature covers the manifest and, through the manifest, the journal head. Local keys are
 * Ed25519; KMS keys (providers/kms-signer) are ECDSA P-256. The public key is stored beside the
 * signature, so verification works offline; pin it with `--public-key` to trust it.
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

export const SIGNATURE_SCHEMA = 'holdfast/signature@1';

export type SignatureAlgorithm = 'ed25519' | 'ecdsa-p256-sha256';

/** Something that signs a manifest digest. */
export interface Signer {
  algorithm: SignatureAlgorithm;
  keyId: string;
  publicKeyPem(): Promise<string>;
  /** Sign the raw 32 digest bytes. */
  sign(digest: Buffer): Promise<Buffer>;
}

/** What is stored beside a manifest (`<manifest>.sig.json`). */
export interface SignatureRecord {
  schema: typeof SIGNATURE_SCHEMA;
  manifestKey: string;
  manifestSha256: string;
  algorithm: SignatureAlgorithm;
  keyId: string;
  publicKey: string;
  /** SHA-256 of the public key's DER, to compare with a pinned key. */
  publicKeyFingerprint: string;
  signature: string;
  signedMessage: 'manifest-sha256-digest-bytes';
}

/** Fingerprint of a public key: hex SHA-256 of its SPKI DER. */
export function publicKeyFingerprint(pem: string): string {
  return createHash('sha256')
    .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** A signer from a local Ed25519 private key file (PEM, readable by its owner only). */
export function localSigner(path: string): Signer {
  if (!existsSync(path))
    throw new BadInputError(`bad input: --sign-key ${path}: no such file (make one with \`evidence keygen\`)`);
  if ((statSync(path).mode & 0o077) !== 0)
    throw new BadInputError(`bad input: --sign-key ${path}: readable by others; chmod 600 it`);
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch {
    throw new BadInputError(`bad input: --sign-key ${path}: not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new BadInputError(`bad input: --sign-key ${path}: expected an Ed25519 key, got ${key.asymmetricKeyType}`);
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
    if (existsSync(p)) throw new BadInputError(`bad input: ${p} exists; refusing to overwrite a key`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  writeFileSync(`${path}.pub`, publicPem, { mode: 0o644, flag: 'wx' });
  return { privateKey: path, publicKey: `${path}.pub`, fingerprint: publicKeyFingerprint(publicPem) };
}

/** Sign a manifest digest into a record. */
export async function signManifest(
  signer: Signer,
  manifestKey: string,
  manifestSha256: string,
): Promise<SignatureRecord> {
  const publicKey = await signer.publicKeyPem();
  const signature = await signer.sign(Buffer.from(manifestSha256, 'hex'));
  return {
    schema: SIGNATURE_SCHEMA,
    manifestKey,
    manifestSha256,
    algorithm: signer.algorithm,
    keyId: signer.keyId,
    publicKey,
    publicKeyFingerprint: publicKeyFingerprint(publicKey),
    signature: signature.toString('base64'),
    signedMessage: 'manifest-sha256-digest-bytes',
  };
}

/** Check a signature record against the manifest digest (and a pinned key, when given). */
export function checkSignature(
  record: SignatureRecord,
  manifestSha256: string,
  pinnedPublicKeyPem?: string,
): { ok: boolean; detail: string } {
  if (record.manifestSha256 !== manifestSha256)
    return { ok: false, detail: 'signature is for a different manifest digest' };
  if (pinnedPublicKeyPem && publicKeyFingerprint(pinnedPublicKeyPem) !== publicKeyFingerprint(record.publicKey)) {
    return { ok: false, detail: 'signed with a key other than the pinned --public-key' };
  }
  let valid = false;
  try {
    const key = createPublicKey(record.publicKey);
    const digest = Buffer.from(manifestSha256, 'hex');
    const sig = Buffer.from(record.signature, 'base64');
    valid = record.algorithm === 'ed25519' ? verify(null, digest, key, sig) : verify('sha256', digest, key, sig);
  } catch (error) {
    return { ok: false, detail: `signature unreadable: ${(error as Error).message}` };
  }
  return valid
    ? {
        ok: true,
        detail: `${record.algorithm} signature by ${record.keyId} (key ${record.publicKeyFingerprint.slice(0, 16)}…) is valid`,
      }
    : { ok: false, detail: `${record.algorithm} signature does not verify` };
}
