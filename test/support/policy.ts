/** Check the calls a provider really sends against its shipped IAM policy file. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface IamPolicy {
  Statement: {
    Effect: 'Allow' | 'Deny';
    Action: string | string[];
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
  }[];
}

/** Read a policy under policies/. */
export function readPolicy(relative: string): IamPolicy {
  return JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../policies/${relative}`, import.meta.url)), 'utf8'),
  ) as IamPolicy;
}

const wildcard = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');

function actions(statement: IamPolicy['Statement'][number]): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/**
 * IAM's evaluation of the `*Like`/`StringEquals` condition operators against a request context. A key
 * missing from the context fails a positive operator and satisfies a negated one, as in IAM.
 */
function conditionHolds(
  condition: NonNullable<IamPolicy['Statement'][number]['Condition']>,
  context: Record<string, string>,
) {
  return Object.entries(condition).every(([operator, keys]) =>
    Object.entries(keys).every(([key, wanted]) => {
      const patterns = (Array.isArray(wanted) ? wanted : [wanted]).map(wildcard);
      const value = context[key];
      const negated = /Not/.test(operator);
      if (value === undefined) return negated;
      const hit = /Equals/.test(operator)
        ? (Array.isArray(wanted) ? wanted : [wanted]).includes(value)
        : patterns.some((p) => p.test(value));
      return negated ? !hit : hit;
    }),
  );
}

/**
 * Allowed means some Allow matches and no Deny does. Without `context`, conditions are ignored (as
 * the EC2/RDS checks always did); with it, a conditional statement applies only when its condition holds.
 */
export function policyAllows(policy: IamPolicy, action: string, context?: Record<string, string>): boolean {
  const applies = (s: IamPolicy['Statement'][number]) =>
    !context || !s.Condition || conditionHolds(s.Condition, context);
  const matches = (effect: 'Allow' | 'Deny') =>
    policy.Statement.some((s) => s.Effect === effect && actions(s).some((a) => wildcard(a).test(action)) && applies(s));
  return matches('Allow') && !matches('Deny');
}

/** Every action the policy allows, literally (wildcard grants are reported as they are written). */
export function grantedActions(policy: IamPolicy): string[] {
  return policy.Statement.filter((s) => s.Effect === 'Allow').flatMap(actions);
}

/** Actions a policy must never grant. */
export const DESTRUCTIVE_ACTION =
  /:(Delete|Terminate|Stop|Reboot|Detach|Purge|ScheduleKeyDeletion|DisableKey|BypassGovernanceRetention|PutLifecycleConfiguration)/i;

/** Add a middleware that records `service:Command` for every command a client sends. */
export function recordCommands(
  client: { middlewareStack: { add: (mw: never, opts: never) => void } },
  service: string,
  into: Set<string>,
): void {
  client.middlewareStack.add(
    ((next: (a: unknown) => unknown, context: { commandName?: string }) => (args: unknown) => {
      into.add(`${service}:${(context.commandName ?? '').replace(/Command$/, '')}`);
      return next(args);
    }) as never,
    { step: 'initialize', name: `record-${service}` } as never,
  );
}
