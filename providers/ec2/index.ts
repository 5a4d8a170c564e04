/** The EC2 provider: preserve, snapshot and isolate instances without destroying anything. */
import { ec2MachineClaim } from './claims.js';
import { lazily } from '../../src/core/provider-kit.js';
import type { Provider } from '../../src/core/types.js';
import { EC2_POLICY, type Ec2Facts, type Ec2Params } from './facts.js';
import { ec2Flags, parseEc2Params } from './params.js';
import { ec2Findings, planEc2 } from './plan.js';
import { relateMemory } from './plan-memory.js';
import { parseEc2Step } from './parse-step.js';
import type { Ec2Step } from './steps.js';

export const ec2Provider = {
  id: 'ec2',
  summary:
    'EC2 instances: tag and protect, Standby, crash-consistent EBS snapshot sets, memory through SSM (AVML), per-ENI isolation',
  credentials: 'aws',
  flags: ec2Flags,
  policies: [EC2_POLICY],
  example:
    'evidence capture --incident IR-2026-0042 --instance i-0abc123def4567890 --forensic-cidr 203.0.113.7/32 --store s3://ir-evidence',
  parseParams: parseEc2Params,
  savedPlan: { parseStep: parseEc2Step },
  plan: planEc2,
  findings: ec2Findings,
  relate: relateMemory,
  claims: { machines: ec2MachineClaim },
  ...lazily(async () => (await import('./impl.js')).implementation),
  async checkRelease(changes, ctx) {
    return (await import('./release.js')).checkEc2Release(changes, ctx);
  },
  async checkEvidence(artifact, ctx, options) {
    if (!['ebs-snapshot', 'ebs-snapshot-copy'].includes(artifact.type)) return undefined;
    return (await import('./check-evidence.js')).checkEbsSnapshot(artifact, ctx, options);
  },
} satisfies Provider<Ec2Params, Ec2Facts, Ec2Step>;
