/**
 * The explicit list of providers and stores. No import side effects, no globals: add a provider
 * by importing it here and putting it in the array.
 */
import { dumpProvider } from '../../providers/dump/index.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { createFsStore } from '../../providers/fs-store/index.js';
import { iamProvider } from '../../providers/iam/index.js';
import { kubernetesProvider } from '../../providers/kubernetes/index.js';
import { rdsProvider } from '../../providers/rds/index.js';
import { createS3Store } from '../../providers/s3-store/index.js';
import type { AwsClientConfig } from '../aws/config.js';
import type { EvidenceStore, Provider, StoreSpec } from '../core/types.js';

/** Every capture provider holdfast ships, in planning order. */
export const builtinProviders: readonly Provider[] = [
  ec2Provider,
  rdsProvider,
  dumpProvider,
  kubernetesProvider,
  iamProvider,
];

/** Build the evidence store a case names; `clients['s3-store']` may inject an S3 client. */
export function createStore(
  spec: StoreSpec,
  aws: AwsClientConfig,
  clients: Record<string, unknown> = {},
): EvidenceStore {
  if (spec.kind === 'fs') return createFsStore(spec.dir);
  return createS3Store(spec, aws, clients['s3-store'] as never);
}
