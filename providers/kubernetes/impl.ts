/** The client-bound half of the Kubernetes provider, loaded on first use. */
import { runByAction, type ProviderImplementation } from '../../src/core/provider-kit.js';
import { discoverKube } from './discover.js';
import type { KubeFacts, KubeParams } from './facts.js';
import { preflightKube } from './preflight.js';
import { runCheckpoint, runCollect, runNodeRecord } from './run-collect.js';
import {
  runCordon,
  runEvictionProtection,
  runHostNetworkCheck,
  runQuarantineLabels,
  runQuarantinePolicy,
} from './run-contain.js';
import type { KubeActions, KubeStep } from './steps.js';

export const implementation: ProviderImplementation<KubeParams, KubeFacts, KubeStep> = {
  discover: discoverKube,
  preflight: preflightKube,
  run: runByAction<KubeActions>('kubernetes', {
    collect: runCollect,
    checkpoint: runCheckpoint,
    'node-record': runNodeRecord,
    'quarantine-policy': runQuarantinePolicy,
    'quarantine-labels': runQuarantineLabels,
    'eviction-protection': runEvictionProtection,
    cordon: runCordon,
    'host-network': runHostNetworkCheck,
  }),
};
