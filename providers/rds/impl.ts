/** The SDK-bound half of the RDS provider, loaded on first use. */
import { runByAction, type ProviderImplementation } from '../../src/core/provider-kit.js';
import { discoverRds } from './discover.js';
import type { RdsFacts, RdsParams } from './facts.js';
import { preflightRds } from './preflight.js';
import { releaseRds } from './release.js';
import { runSnapshot } from './run-collect.js';
import { runIsolate, runIsolationGroup } from './run-contain.js';
import { runProtect } from './run-preserve.js';
import { runSettle } from './run-settle.js';
import type { RdsActions, RdsStep } from './steps.js';

export const implementation: ProviderImplementation<RdsParams, RdsFacts, RdsStep> = {
  discover: discoverRds,
  preflight: preflightRds,
  run: runByAction<RdsActions>('rds', {
    protect: runProtect,
    snapshot: runSnapshot,
    'isolation-group': runIsolationGroup,
    isolate: runIsolate,
    settle: runSettle,
  }),
  release: releaseRds,
};
