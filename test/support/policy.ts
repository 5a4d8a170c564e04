/** Check the calls a provider really sends against its shipped IAM policy file. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface IamPolicy {
  Statement: { Effect: 'Allow' | 'Deny'; Action: string | string[] }[];
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

/** Allowed means some Allow matches and no Deny does (IAM's evaluation, without conditions). */
export function policyAllows(policy: IamPolicy, action: string): boolean {
  const matches = (effect: 'Allow' | 'Deny') =>
    policy.Statement.some((s) => s.Effect === effect && actions(s).some((a) => wildcard(a).test(action)));
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
