/** The RDS provider: deletion protection, snapshots and isolation for DB instances and Aurora clusters. */
import { lazily } from '../../src/core/provider-kit.js';
import type { Provider } from '../../src/core/types.js';
import { RDS_POLICY, type RdsFacts, type RdsParams } from './facts.js';
import { parseRdsParams, rdsFlags } from './params.js';
import { planRds, relateRds } from './plan.js';
import type { RdsStep } from './steps.js';
import { parseRdsStep } from './parse-step.js';

export const rdsProvider = {
  id: 'rds',
  summary: 'RDS instances and Aurora clusters: deletion protection, snapshots, security-group isolation',
  credentials: 'aws',
  flags: rdsFlags,
  policies: [RDS_POLICY],
  example: 'evidence capture --incident IR-2026-0042 --db-instance orders-prod --forensic-cidr 203.0.113.7/32',
  parseParams: parseRdsParams,
  plan: planRds,
  relate: relateRds,
  savedPlan: { parseStep: parseRdsStep },
  ...lazily(async () => (await import('./impl.js')).implementation),
  async checkEvidence(artifact, ctx) {
    if (!['rds-snapshot', 'rds-cluster-snapshot'].includes(artifact.type)) return undefined;
    return (await import('./check-evidence.js')).checkRdsSnapshot(artifact, ctx);
  },
} satisfies Provider<RdsParams, RdsFacts, RdsStep>;
