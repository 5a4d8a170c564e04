/** The IAM clients for a context: injected ones first (tests, library callers), else built once. */
import { awsClientConfig } from '../../src/aws/config.js';
import { clientsFor } from '../../src/core/provider-kit.js';
import type { ProviderContext } from '../../src/core/types.js';
import { createIamClients, type IamClients } from './client.js';

/** The IAM clients for a context, injected or built once. */
export function iamClientsFor(ctx: Pick<ProviderContext, 'clients' | 'kase' | 'env' | 'run'>): IamClients {
  return clientsFor(ctx, 'iam', () => createIamClients(awsClientConfig(ctx)));
}
