/** The RDS provider: deletion protection, snapshots and isolation for DB instances and Aurora clusters. */
import { lazily } from '../../src/core/provider-kit.js';
import type { JsonObject, Provider } from '../../src/core/types.js';
import { RDS_POLICY, type RdsFacts, type RdsParams } from './facts.js';
import { planRds, relateRds } from './plan.js';
import type { RdsStep } from './steps.js';

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** RDS identifiers: 1–63 letters, digits or hyphens, starting with a letter. */
const DB_ID = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

export function parseRdsParams(raw: JsonObject): { params?: RdsParams; problems: string[] } {
  const problems: string[] = [];
  for (const key of Object.keys(raw))
    if (!['dbInstances', 'dbClusters', 'approvePending'].includes(key))
      problems.push(`targets.rds.${key}: unknown field`);
  const dbInstances = [...new Set(list(raw.dbInstances))];
  const dbClusters = [...new Set(list(raw.dbClusters))];
  for (const id of dbInstances)
    if (!DB_ID.test(id)) problems.push(`--db-instance "${id}" is not a DB instance identifier`);
  for (const id of dbClusters)
    if (!DB_ID.test(id)) problems.push(`--db-cluster "${id}" is not a DB cluster identifier`);
  if (!dbInstances.length && !dbClusters.length) problems.push('rds: give --db-instance or --db-cluster');
  return problems.length
    ? { problems }
    : {
        params: {
          dbInstances,
          dbClusters,
          approvePending: raw.approvePending === true || raw.approvePending === 'true',
        },
        problems,
      };
}

export const rdsProvider = {
  id: 'rds',
  summary: 'RDS instances and Aurora clusters: deletion protection, snapshots, security-group isolation',
  credentials: 'aws',
  flags: [
    {
      flags: '--db-instance <id>',
      description: 'RDS DB instance (an Aurora member is captured through its cluster; repeatable)',
      param: 'dbInstances',
      repeatable: true,
      target: true,
    },
    {
      flags: '--db-cluster <id>',
      description: 'Aurora DB cluster (repeatable)',
      param: 'dbClusters',
      repeatable: true,
      target: true,
    },
    {
      flags: '--approve-pending',
      description: 'allow isolation to apply pending modifications at once (ApplyImmediately)',
      param: 'approvePending',
      boolean: true,
    },
  ],
  policies: [RDS_POLICY],
  example: 'evidence capture --incident IR-2026-0042 --db-instance orders-prod --forensic-cidr 203.0.113.7/32',
  parseParams: parseRdsParams,
  plan: planRds,
  relate: relateRds,
  ...lazily(async () => (await import('./impl.js')).implementation),
  async checkEvidence(artifact, ctx) {
    if (!['rds-snapshot', 'rds-cluster-snapshot'].includes(artifact.type)) return undefined;
    return (await import('./check-evidence.js')).checkRdsSnapshot(artifact, ctx);
  },
} satisfies Provider<RdsParams, RdsFacts, RdsStep>;
