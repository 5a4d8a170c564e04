/**
 * Online checks of platform-held evidence for `evidence verify`: each provider that owns an artifact
 * type checks its snapshots with the caller's credentials (and the case's --assume-role, if any).
 */
import type { HeldEvidenceCheck } from '../evidence/verify.js';
import { checkJournalChain } from '../evidence/journal.js';
import { deriveJournalState } from '../evidence/journal-state.js';
import { readJournalFromStore } from '../evidence/store-journal.js';
import type { Clients, CloudSettings, EvidenceStore, Provider, RunScope } from '../core/types.js';
import { builtinProviders, providerClients } from './registry.js';
import { runScope } from './run-scope.js';

/** The check verify calls per platform-held artifact; the case comes from the incident's journal in the store. */
export function heldEvidenceChecker(
  store: EvidenceStore,
  incident: string,
  options: {
    providers?: readonly Provider[];
    env?: NodeJS.ProcessEnv;
    clients?: Clients;
    /** Also read each EBS snapshot's blocks and hash its whole image (EBS direct APIs). */
    hashSnapshots?: boolean;
  } = {},
): HeldEvidenceCheck {
  const env = options.env ?? process.env;
  const providers = options.providers ?? builtinProviders;
  let context: Promise<{ kase: CloudSettings; clients: Clients; run: RunScope }> | undefined;
  const ctx = () =>
    (context ??= (async () => {
      const { events } = checkJournalChain(await readJournalFromStore(store, incident));
      // A journal without its start names only the incident; checks then use the caller's own settings.
      const kase: CloudSettings = deriveJournalState(events).lastStart?.case ?? { incident };
      return { kase, clients: await providerClients(kase, env, options.clients ?? {}), run: runScope() };
    })());
  return async (artifact) => {
    const { kase, clients, run } = await ctx();
    for (const provider of providers) {
      const result = await provider.checkEvidence?.(
        artifact,
        {
          incident,
          kase,
          clients,
          env,
          signal: new AbortController().signal,
          dryRun: true,
          run,
        },
        { hashContent: Boolean(options.hashSnapshots) },
      );
      if (result) return result;
    }
    return undefined;
  };
}
