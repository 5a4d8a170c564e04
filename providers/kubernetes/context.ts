/** The Kubernetes client for a context: injected first (tests, daemons), else built from kubeconfig. */
import type { ProviderContext } from '../../src/types.js';
import { createKubeClient, type KubeClient } from './client.js';
import type { KubeParams } from './facts.js';

const built = new WeakMap<object, KubeClient>();

export function kubeClientFor(ctx: Pick<ProviderContext, 'clients' | 'kase' | 'env'>): KubeClient {
  const injected = ctx.clients.kubernetes as KubeClient | undefined;
  if (injected) return injected;
  let client = built.get(ctx.clients);
  if (!client) {
    const params = ctx.kase.targets.kubernetes as KubeParams | undefined;
    client = createKubeClient({ ...(params?.kubeconfig ? { kubeconfig: params.kubeconfig } : {}), ...(params?.context ? { context: params.context } : {}), env: ctx.env });
    built.set(ctx.clients, client);
  }
  return client;
}
