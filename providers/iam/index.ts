/** The IAM provider: record the suspect's role or user, then revoke its sessions and keys without deleting anything. */
import { iamMachineIdentityClaim, iamRoleClaim } from './claims.js';
import { lazily } from '../../src/core/provider-kit.js';
import type { Provider } from '../../src/core/types.js';
import { IAM_POLICY, type IamFacts, type IamParams } from './facts.js';
import { iamFlags, parseIamParams } from './params.js';
import { planIam } from './plan.js';
import type { IamStep } from './steps.js';
import { parseIamStep } from './parse-step.js';

export const iamProvider = {
  id: 'iam',
  summary:
    "IAM credentials: record roles and users, revoke a role's existing sessions (deny-older-tokens policy), set access keys Inactive",
  credentials: 'aws',
  flags: iamFlags,
  policies: [IAM_POLICY],
  example:
    'evidence capture --incident IR-2026-0042 --instance i-0abc123def4567890 --iam-user ci-deploy --severity high',
  parseParams: parseIamParams,
  plan: planIam,
  savedPlan: { parseStep: parseIamStep },
  claims: { roles: iamRoleClaim, machineIdentities: iamMachineIdentityClaim },
  ...lazily(async () => (await import('./impl.js')).implementation),
  async checkRelease(changes, ctx) {
    return (await import('./release.js')).checkIamRelease(changes, ctx);
  },
} satisfies Provider<IamParams, IamFacts, IamStep>;
