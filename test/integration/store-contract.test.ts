/** The store contract suite (test/support/store-contract.ts) against the S3 store on moto, an Object Lock bucket. */
import { awsClientConfig } from '../../src/aws/config.js';
import { createS3Store } from '../../providers/s3-store/index.js';
import { createTestBucket, motoEnv } from '../support/aws.js';
import { storeContract } from '../support/store-contract.js';

storeContract('s3-store (moto, Object Lock)', async () => {
  const spec = {
    kind: 's3' as const,
    bucket: await createTestBucket(),
    prefix: 'cases',
    retainDays: 1,
    retentionMode: 'GOVERNANCE' as const,
    legalHold: false,
    allowUnlocked: false,
  };
  return {
    store: createS3Store(spec, awsClientConfig({ kase: {}, env: motoEnv(), clients: {} })),
    versions: true,
  };
});
