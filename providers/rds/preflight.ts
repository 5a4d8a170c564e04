/** RDS dry run: RDS has no DryRun, so each step proves the read-only describe of its database is allowed. */
import { isAccessDenied } from '../../src/aws/errors.js';
import type { PreflightResult, ProviderContext } from '../../src/core/types.js';
import { readProbe } from './client.js';
import { rdsClientsFor } from './context.js';
import { RDS_POLICY } from './facts.js';
import type { RdsStep } from './steps.js';

export async function preflightRds(step: RdsStep, ctx: ProviderContext): Promise<PreflightResult> {
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
