/** The only file that imports the KMS SDK. */
import { GetPublicKeyCommand, KMSClient, SignCommand, type KMSClientConfig } from '@aws-sdk/client-kms';
import type { AwsClientConfig } from '../../src/aws/config.js';
import { guardAwsClient } from '../../src/aws/guard-client.js';

export { KMSClient };

export function createKmsClient(config: AwsClientConfig): KMSClient {
  return guardAwsClient(new KMSClient(config as KMSClientConfig));
}

export async function kmsPublicKeyDer(client: KMSClient, KeyId: string): Promise<Uint8Array> {
  const out = await client.send(new GetPublicKeyCommand({ KeyId }));
  if (!out.PublicKey) throw new Error(`KMS returned no public key for ${KeyId}`);
  return out.PublicKey;
}

/**
 * ECDSA P-256 signature over `message`. The message is the 32-byte SHA-256 of the signed text (see
 * docs/evidence-format.md, "Signatures") sent as RAW, so
 * KMS signs SHA-256(digest); any ECDSA verifier checks it with the stored public key. (MessageType
 * DIGEST would sign the digest directly, but emulators disagree on it; RAW is unambiguous.)
 */
export async function kmsSign(client: KMSClient, KeyId: string, message: Uint8Array): Promise<Uint8Array> {
  const out = await client.send(
    new SignCommand({ KeyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }),
  );
  if (!out.Signature) throw new Error(`KMS returned no signature for ${KeyId}`);
  return out.Signature;
}
