/** The EC2 provider: preserve, snapshot and isolate instances without destroying anything. */
import { InternalError } from '../../src/errors.js';
import type { Provider, StepContext, StepOutcome } from '../../src/types.js';
import { EC2_POLICY } from './context.js';
import { discoverEc2 } from './discover.js';
import type { Ec2Facts, Ec2Params } from './facts.js';
import { ec2Flags, parseEc2Params } from './params.js';
import { planEc2 } from './plan.js';
import { preflightEc2 } from './preflight.js';
import { releaseEc2 } from './release.js';
import { runDescribe, runSnapshot } from './run-collect.js';
import { runDeregister, runIsolate, runIsolationGroup } from './run-contain.js';
import { runProtect, runStandby, runTag } from './run-preserve.js';
import { runSettle } from './run-settle.js';

const RUNNERS: Record<string, (ctx: StepContext) => Promise<StepOutcome>> = {
  tag: runTag,
  protect: runProtect,
  standby: runStandby,
  describe: runDescribe,
  snapshot: runSnapshot,
  deregister: runDeregister,
  'isolation-group': runIsolationGroup,
  isolate: runIsolate,
  settle: runSettle,
};

export const ec2Provider = {
  id: 'ec2',
  summary: 'EC2 instances: tag and protect, Standby, crash-consistent EBS snapshot sets, per-ENI isolation',
  flags: ec2Flags,
  policies: [EC2_POLICY],
  example: 'evidence capture --incident IR-2026-0042 --instance i-0abc123def4567890 --forensic-cidr 203.0.113.7/32 --store s3://ir-evidence',
  parseParams: parseEc2Params,
  discover: discoverEc2,
  plan: planEc2,
  preflight: preflightEc2,
  async run(step, ctx) {
    const runner = RUNNERS[step.action];
    if (!runner) throw new InternalError(`ec2 has no action ${step.action}`);
    return runner(ctx);
  },
  release: releaseEc2,
} satisfies Provider<Ec2Params, Ec2Facts>;
