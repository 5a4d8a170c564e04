/**
 * Dry-run proof for IAM steps. IAM has no DryRun: reads are probed for real, and changes are asked
 * of iam:SimulatePrincipalPolicy for the caller where that is allowed and the caller is an IAM user or
 * role; otherwise the check says "not checkable". Nothing is written.
 */
import { isAccessDenied } from '../../src/aws/errors.js';
import type { PreflightResult, ProviderContext } from '../../src/core/types.js';
import { callerArn, getRole, getUser, simulatePrincipal, type IamClients } from './client.js';
import { iamClientsFor } from './context.js';
import { IAM_POLICY } from './facts.js';
import type { IamActions, IamStep } from './steps.js';

type Check = PreflightResult['checks'][number];

async function readCheck(action: string, call: () => Promise<unknown>): Promise<Check> {
  try {
    await call();
    return { action, allowed: true, detail: 'read-only call made', policyFile: IAM_POLICY };
  } catch (error) {
    return {
      action,
      allowed: isAccessDenied(error) ? false : 'unknown',
      detail: (error as Error).name,
      policyFile: IAM_POLICY,
    };
  }
}

/**
 * The IAM principal to simulate for the caller: an IAM user as it is; an assumed role as its role
 * (whose ARN, path included, only GetRole knows); anything else (root, federated) cannot be simulated.
 */
async function simulationPrincipal(c: IamClients): Promise<{ arn?: string; why?: string }> {
  const arn = await callerArn(c).catch(() => undefined);
  if (!arn) return { why: 'the caller identity is unknown' };
  if (/^arn:aws[a-z-]*:iam::\d{12}:user\//.test(arn)) return { arn };
  const assumed = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([^/]+)\//.exec(arn);
  if (assumed) {
    const role = await getRole(c, assumed[1]!).catch(() => undefined);
    return role ? { arn: role.arn } : { why: `the caller's role ${assumed[1]} cannot be read` };
  }
  return { why: `the caller ${arn} is not an IAM user or role` };
}

async function simulated(
  c: IamClients,
  groups: { actions: string[]; resource: string; context?: Record<string, string> }[],
): Promise<Check[]> {
  const notCheckable = (why: string) =>
    groups.flatMap((g) =>
      g.actions.map((action) => ({
        action,
        allowed: 'unknown' as const,
        detail: `not checkable: ${why}`,
        policyFile: IAM_POLICY,
      })),
    );
  const principal = await simulationPrincipal(c);
  if (!principal.arn) return notCheckable(principal.why!);
  const checks: Check[] = [];
  for (const g of groups) {
    try {
      const decisions = await simulatePrincipal(c, principal.arn, g.actions, [g.resource], g.context);
      for (const action of g.actions) {
        const decision = decisions[action] ?? 'unknown';
        checks.push({
          action,
          allowed: decision === 'allowed' ? true : decision === 'unknown' ? 'unknown' : false,
          detail: `iam:SimulatePrincipalPolicy for ${principal.arn}: ${decision}`,
          policyFile: IAM_POLICY,
        });
      }
    } catch (error) {
      return notCheckable(
        isAccessDenied(error)
          ? 'the caller may not call iam:SimulatePrincipalPolicy'
          : `iam:SimulatePrincipalPolicy failed (${(error as Error).name})`,
      );
    }
  }
  return checks;
}

type ChecksByAction = { [A in keyof IamActions]: (c: IamClients, step: IamStep<A>) => Promise<Check[]> };

const CHECKS: ChecksByAction = {
  'record-role': async (c, s) => [await readCheck('iam:GetRole', () => getRole(c, s.inputs.roleName))],
  'record-user': async (c, s) => [await readCheck('iam:GetUser', () => getUser(c, s.inputs.userName))],
  'revoke-sessions': (c, s) =>
    simulated(c, [
      { actions: ['iam:CreatePolicy', 'iam:TagPolicy', 'iam:GetPolicy'], resource: s.inputs.policyArn },
      {
        actions: ['iam:AttachRolePolicy'],
        resource: s.inputs.roleArn,
        context: { 'iam:PolicyARN': s.inputs.policyArn },
      },
    ]),
  'deactivate-keys': (c, s) =>
    simulated(c, [{ actions: ['iam:ListAccessKeys', 'iam:UpdateAccessKey'], resource: s.inputs.userArn }]),
};

/** Preflight one IAM step. */
export async function preflightIam<A extends keyof IamActions>(
  step: IamStep<A>,
  ctx: ProviderContext,
): Promise<PreflightResult> {
  // A saved plan is JSON: an action this provider does not know has nothing to check.
  const checksOf: ChecksByAction[A] | undefined = Object.hasOwn(CHECKS, step.action) ? CHECKS[step.action] : undefined;
  const checks = (await checksOf?.(iamClientsFor(ctx), step)) ?? [];
  return { stepId: step.id, ok: checks.every((ch) => ch.allowed !== false), checks };
}
