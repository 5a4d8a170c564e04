/** The SDK-bound half of the RDS provider, loaded on first use. */
import { isAccessDenied } from '../../src/aws/errors.js';
import { InternalError } from '../../src/core/errors.js';
import { releaseGroups } from '../../src/aws/isolation-group.js';
import { runByAction, type ProviderImplementation } from '../../src/core/provider-kit.js';
import type { ChangeRecord, PreflightResult, ProviderContext, ReleaseContext } from '../../src/core/types.js';
import { describeDbCluster, describeDbInstance, readProbe, securityGroupApi, setDbGroups } from './client.js';
import { rdsClientsFor } from './context.js';
import { discoverRds } from './discover.js';
import { RDS_POLICY, type RdsFacts, type RdsParams } from './facts.js';
import { runIsolate, runIsolationGroup, runProtect, runSettle, runSnapshot } from './run.js';
import type { RdsActions, RdsStep } from './steps.js';

async function preflightRds(step: RdsStep, ctx: ProviderContext): Promise<PreflightResult> {
  if (step.action === 'isolation-group')
    return {
      stepId: step.id,
      ok: true,
      checks: [
        { action: `rds:${step.action}`, allowed: 'unknown', detail: 'no platform dry run', policyFile: RDS_POLICY },
      ],
    };
  try {
    await readProbe(rdsClientsFor(ctx), step.inputs.kind, step.inputs.id);
    return {
      stepId: step.id,
      ok: true,
      checks: [
        {
          action: `rds:${step.action}`,
          allowed: 'unknown',
          detail: 'RDS has no dry run; the read-only describe is allowed',
          policyFile: RDS_POLICY,
        },
      ],
    };
  } catch (error) {
    const denied = isAccessDenied(error);
    return {
      stepId: step.id,
      ok: !denied,
      checks: [
        {
          action: 'rds:Describe*',
          allowed: denied ? false : 'unknown',
          detail: (error as Error).name ?? 'error',
          policyFile: RDS_POLICY,
        },
      ],
    };
  }
}

async function releaseRds(change: ChangeRecord, ctx: ReleaseContext): Promise<{ restored: boolean; note?: string }> {
  if (change.attribute === 'vpcSecurityGroups') {
    const [kind, id] = change.resource.split(':') as ['instance' | 'cluster', string];
    const c = rdsClientsFor(ctx);
    const before = change.before as string[];
    const db = kind === 'instance' ? await describeDbInstance(c, id) : await describeDbCluster(c, id);
    return releaseGroups(securityGroupApi(c), {
      incident: ctx.incident,
      name: id,
      current: db?.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId!) ?? (db ? [] : undefined),
      before,
      restore: () => setDbGroups(c, kind, id, before),
    });
  }
  if (
    change.attribute === 'deletionProtection' ||
    change.attribute === 'tags' ||
    change.attribute === 'pendingModifiedValues'
  ) {
    // Turning deletion protection off is refused by the guard: release leaves it on.
    return { restored: false, note: `${change.attribute} of ${change.resource} stays` };
  }
  throw new InternalError(`rds cannot release ${change.attribute}`);
}

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
