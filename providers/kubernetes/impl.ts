/** The client-bound half of the Kubernetes provider, loaded on first use. */
import { runByAction, type ProviderImplementation } from '../../src/provider-kit.js';
import { discoverKube } from './discover.js';
import type { KubeFacts, KubeParams } from './facts.js';
import { preflightKube } from './preflight.js';
import { releaseKube } from './release.js';
import { runCheckpoint, runCollect, runCordon, runNodeRecord, runOrphan, runProtect, runQuarantinePolicy } from './run.js';

export const implementation: ProviderImplementation<KubeParams, KubeFacts> = {
  discover: discoverKube,
  preflight: preflightKube,
  run: runByAction('kubernetes', {
    protect: runProtect,
    collect: runCollect,
    checkpoint: runCheckpoint,
    'quarantine-policy': runQuarantinePolicy,
    orphan: runOrphan,
    'node-record': runNodeRecord,
    cordon: runCordon,
  }),
  release: releaseKube,
};
