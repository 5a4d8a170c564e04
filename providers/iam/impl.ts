/** The SDK-bound half of the IAM provider, loaded on first use. */
import { runByAction, type ProviderImplementation } from '../../src/core/provider-kit.js';
import { discoverIam } from './discover.js';
import type { IamFacts, IamParams } from './facts.js';
import { preflightIam } from './preflight.js';
import { releaseIam } from './release.js';
import { runRecordRole, runRecordUser } from './run-collect.js';
import { runDeactivateKeys, runRevokeSessions } from './run-contain.js';
import type { IamActions, IamStep } from './steps.js';

/** Discovery, preflight, step runners and release of the IAM provider. */
export const implementation: ProviderImplementation<IamParams, IamFacts, IamStep> = {
  discover: discoverIam,
  preflight: preflightIam,
  run: runByAction<IamActions>('iam', {
    'record-role': runRecordRole,
    'record-user': runRecordUser,
    'revoke-sessions': runRevokeSessions,
    'deactivate-keys': runDeactivateKeys,
  }),
  release: releaseIam,
};
