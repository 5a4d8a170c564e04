/**
 * --assume-role: providers act in the target account through an assumed role, while the evidence
 * store keeps the caller's own credentials (the evidence bucket usually lives in the security
 * account, not in the compromised one).
 */
import { assumeRoleCredentials } from './client.js';
import { awsClientConfig } from './config.js';
import type { Clients, CloudSettings } from '../core/types.js';

/** Clients for providers: with --assume-role, an assumed-role credentials provider is added. */
export async function providerClients(kase: CloudSettings, env: NodeJS.ProcessEnv, clients: Clients): Promise<Clients> {
  if (!kase.assumeRole || clients['aws:credentials']) return clients;
  const caller = awsClientConfig({ kase, env, clients });
  return { ...clients, 'aws:credentials': assumeRoleCredentials(caller, kase.assumeRole, kase.incident) };
}
