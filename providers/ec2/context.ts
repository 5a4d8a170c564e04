/** The EC2 clients for a context: injected ones first (tests, library callers), else built once. */
import { awsClientConfig, resolveRegion } from '../../src/aws/config.js';
import { ec2RateLimiter } from '../../src/aws/rate-limit.js';
import { clientsFor } from '../../src/core/provider-kit.js';
import type { CloudSettings, ProviderContext } from '../../src/core/types.js';
import { createEc2Clients, type Ec2Clients } from './client.js';

export { EC2_POLICY } from './facts.js';

/** The EC2 clients for a context, injected or built once. */
export function ec2ClientsFor(
  ctx: Pick<ProviderContext, 'clients' | 'env' | 'run'> & { kase: CloudSettings },
): Ec2Clients {
  return clientsFor(ctx, 'ec2', () =>
    createEc2Clients(awsClientConfig(ctx), ec2RateLimiter(resolveRegion(ctx.kase.region, ctx.env), ctx.env)),
  );
}
