/** The EC2 clients for a context: injected ones first (tests, library callers), else built once. */
import { awsClientConfig } from '../../src/aws-config.js';
import type { ProviderContext } from '../../src/types.js';
import { createEc2Clients, type Ec2Clients } from './client.js';

const built = new WeakMap<object, Ec2Clients>();

/** Policy file that grants everything this provider calls. */
export const EC2_POLICY = 'policies/aws/ec2.json';

export function ec2ClientsFor(ctx: Pick<ProviderContext, 'clients' | 'kase' | 'env'>): Ec2Clients {
  const injected = ctx.clients.ec2 as Ec2Clients | undefined;
  if (injected) return injected;
  let clients = built.get(ctx.clients);
  if (!clients) {
    clients = createEc2Clients(awsClientConfig(ctx));
    built.set(ctx.clients, clients);
  }
  return clients;
}
