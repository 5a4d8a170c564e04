/** The RDS clients for a context: injected first, else built once per context. */
import { awsClientConfig } from '../../src/aws-config.js';
import type { ProviderContext } from '../../src/types.js';
import { createRdsClients, type RdsClients } from './client.js';

export const RDS_POLICY = 'policies/aws/rds.json';
const built = new WeakMap<object, RdsClients>();

export function rdsClientsFor(ctx: Pick<ProviderContext, 'clients' | 'kase' | 'env'>): RdsClients {
  const injected = ctx.clients.rds as RdsClients | undefined;
  if (injected) return injected;
  let clients = built.get(ctx.clients);
  if (!clients) {
    clients = createRdsClients(awsClientConfig(ctx));
    built.set(ctx.clients, clients);
  }
  return clients;
}
