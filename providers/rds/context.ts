/** The RDS clients for a context: injected first, else built once per run. */
import { awsClientConfig } from '../../src/aws/config.js';
import { clientsFor } from '../../src/core/provider-kit.js';
import type { CloudSettings, ProviderContext } from '../../src/core/types.js';
import { createRdsClients, type RdsClients } from './client.js';

export { RDS_POLICY } from './facts.js';

export function rdsClientsFor(
  ctx: Pick<ProviderContext, 'clients' | 'env' | 'run'> & { kase: CloudSettings },
): RdsClients {
  return clientsFor(ctx, 'rds', () => createRdsClients(awsClientConfig(ctx)));
}
