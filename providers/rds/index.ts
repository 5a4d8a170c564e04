/** The RDS provider: deletion protection, snapshots and isolation for DB instances and Aurora clusters. */
import { InternalError } from '../../src/errors.js';
import type { ChangeRecord, JsonObject, PreflightResult, Provider, ReleaseContext, StepContext, StepOutcome } from '../../src/types.js';
import { readProbe, setDbGroups } from './client.js';
import { RDS_POLICY, rdsClientsFor } from './context.js';
import { discoverRds } from './discover.js';
import type { RdsFacts, RdsParams } from './facts.js';
import { planRds, relateRds } from './plan.js';
import { runIsolate, runIsolationGroup, runProtect, runSettle, runSnapshot } from './run.js';

const RUNNERS: Record<string, (ctx: StepContext) => Promise<StepOutcome>> = {
  protect: runProtect,
  snapshot: runSnapshot,
  'isolation-group': runIsolationGroup,
  isolate: runIsolate,
  settle: runSettle,
};

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
}

/** RDS identifiers: 1–63 letters, digits or hyphens, starting with a letter. */
const DB_ID = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

export function parseRdsParams(raw: JsonObject): { params?: RdsParams; problems: string[] } {
  const problems: string[] = [];
  for (const key of Object.keys(raw)) if (!['dbInstances', 'dbClusters', 'approvePending'].includes(key)) problems.push(`targets.rds.${key}: unknown field`);
  const dbInstances = [...new Set(list(raw.dbInstances))];
  const dbClusters = [...new Set(list(raw.dbClusters))];
  for (const id of dbInstances) if (!DB_ID.test(id)) problems.push(`--db-instance "${id}" is not a DB instance identifier`);
  for (const id of dbClusters) if (!DB_ID.test(id)) problems.push(`--db-cluster "${id}" is not a DB cluster identifier`);
  if (!dbInstances.length && !dbClusters.length) problems.push('rds: give --db-instance or --db-cluster');
  return problems.length ? { problems } : { params: { dbInstances, dbClusters, approvePending: raw.approvePending === true || raw.approvePending === 'true' }, problems };
}

async function preflightRds(step: Parameters<NonNullable<Provider['preflight']>>[0], ctx: Parameters<NonNullable<Provider['preflight']>>[1]): Promise<PreflightResult> {
  const { kind, id } = step.inputs as { kind?: 'instance' | 'cluster'; id?: string };
  if (!kind || !id) return { stepId: step.id, ok: true, checks: [{ action: `rds:${step.action}`, allowed: 'unknown', detail: 'no platform dry run', policyFile: RDS_POLICY }] };
  try {
    await readProbe(rdsClientsFor(ctx), kind, id);
    return { stepId: step.id, ok: true, checks: [{ action: `rds:${step.action}`, allowed: 'unknown', detail: 'RDS has no dry run; the read-only describe is allowed', policyFile: RDS_POLICY }] };
  } catch (error) {
    const denied = /AccessDenied|Unauthorized/.test((error as Error).name ?? '');
    return { stepId: step.id, ok: !denied, checks: [{ action: 'rds:Describe*', allowed: denied ? false : 'unknown', detail: (error as Error).name ?? 'error', policyFile: RDS_POLICY }] };
  }
}

async function releaseRds(change: ChangeRecord, ctx: ReleaseContext): Promise<{ restored: boolean; note?: string }> {
  if (change.attribute === 'vpcSecurityGroups') {
    const [kind, id] = change.resource.split(':') as ['instance' | 'cluster', string];
    await setDbGroups(rdsClientsFor(ctx), kind, id, change.before as string[]);
    return { restored: true, note: `${id} back to ${(change.before as string[]).join(', ')}` };
  }
  if (change.attribute === 'deletionProtection' || change.attribute === 'tags' || change.attribute === 'pendingModifiedValues') {
    // Turning deletion protection off is refused by the guard: release leaves it on.
    return { restored: false, note: `${change.attribute} of ${change.resource} stays` };
  }
  throw new InternalError(`rds cannot release ${change.attribute}`);
}

export const rdsProvider = {
  id: 'rds',
  summary: 'RDS instances and Aurora clusters: deletion protection, snapshots, security-group isolation',
  flags: [
    { flags: '--db-instance <id>', description: 'RDS DB instance (an Aurora member is captured through its cluster; repeatable)', param: 'dbInstances', repeatable: true, target: true },
    { flags: '--db-cluster <id>', description: 'Aurora DB cluster (repeatable)', param: 'dbClusters', repeatable: true, target: true },
    { flags: '--approve-pending', description: 'allow isolation to apply pending modifications at once (ApplyImmediately)', param: 'approvePending', boolean: true },
  ],
  policies: [RDS_POLICY],
  example: 'evidence capture --incident IR-2026-0042 --db-instance orders-prod --forensic-cidr 203.0.113.7/32',
  parseParams: parseRdsParams,
  discover: discoverRds,
  plan: planRds,
  relate: relateRds,
  preflight: preflightRds,
  async run(step, ctx) {
    const runner = RUNNERS[step.action];
    if (!runner) throw new InternalError(`rds has no action ${step.action}`);
    return runner(ctx);
  },
  release: releaseRds,
} satisfies Provider<RdsParams, RdsFacts>;
