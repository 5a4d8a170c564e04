/** The Kubernetes client for a context: injected first (tests, daemons), else built from kubeconfig once. */
import { clientsFor } from '../../src/core/provider-kit.js';
import type { ProviderContext } from '../../src/core/types.js';
import { createKubeClient, type KubeClient } from './client.js';
import type { KubeParams } from './facts.js';

export function kubeClientFor(ctx: Pick<ProviderContext, 'clients' | 'kase' | 'env' | 'run'>): KubeClient {
  return clientsFor(ctx, 'kubernetes', () => {
    const params = ctx.kase.targets.kubernetes as KubeParams | undefined;
    return createKubeClient({ kubeconfig: params?.kubeconfig ?? null, context: params?.context ?? null, env: ctx.env });
  });
}
