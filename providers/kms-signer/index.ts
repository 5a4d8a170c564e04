/** A manifest signer backed by an AWS KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY). */
import { createPublicKey } from 'node:crypto';
import type { AwsClientConfig } from '../../src/aws/config.js';
import type { Signer } from '../../src/evidence/signing.js';
import type { KMSClient } from './client.js';

/** The least-privilege policy for signing with a KMS key (listed by `evidence providers`). */
export const KMS_SIGNER_POLICY = 'policies/aws/kms-signer.json';

const sdk = () => import('./client.js');

/** Sign with `keyArn`; `client` may be injected. */
export function kmsSigner(keyArn: string, config: AwsClientConfig, injected?: KMSClient): Signer {
  let clientPromise: Promise<KMSClient> | undefined;
  const client = () =>
    (clientPromise ??= injected ? Promise.resolve(injected) : sdk().then((m) => m.createKmsClient(config)));
  let pem: string | undefined;
  return {
    algorithm: 'ecdsa-p256-sha256',
    keyId: keyArn,
    async publicKeyPem() {
      pem ??= createPublicKey({
        key: Buffer.from(await (await sdk()).kmsPublicKeyDer(await client(), keyArn)),
        format: 'der',
        type: 'spki',
      })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      return pem;
    },
    async sign(digest) {
      return Buffer.from(await (await sdk()).kmsSign(await client(), keyArn, digest));
    },
  };
}
