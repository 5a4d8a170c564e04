/**
 * The do-not-delete guard. Every AWS SDK client holdfast builds gets `guardAwsClient`, and every
 * Kubernetes request passes `assertKubeRequestAllowed`; both refuse destructive calls before they
 * are sent, whatever the code above them asks for.
 */
import { InternalError } from './errors.js';

/** Command-name prefixes that destroy or stop something. */
const DESTRUCTIVE_PREFIXES = [
  'Delete',
  'Terminate',
  'Stop',
  'Reboot',
  'Purge',
  'Reset',
  'Restore',
  'Failover',
  'Promote',
];

/** Whole command names that destroy or detach evidence without a destructive prefix. */
const DESTRUCTIVE_COMMANDS = new Set([
  'DeregisterImage',
  'DetachVolume',
  'DetachNetworkInterface',
  'ReleaseAddress',
  'DisassociateAddress',
  'DisableSnapshotBlockPublicAccess',
  'UnlockSnapshot',
  'ModifySnapshotTier',
  'DetachInstances',
  'SetInstanceHealth',
  'PutBucketLifecycleConfiguration',
  'PutBucketVersioning',
  'PutObjectLockConfiguration',
  'ScheduleKeyDeletion',
  'DisableKey',
  'AbortMultipartUpload',
]);

/** Parameters that turn a harmless call into one that can destroy evidence. */
const DESTRUCTIVE_PARAMS: Record<string, (input: Record<string, unknown>) => string | undefined> = {
  // Overwriting an object would replace evidence at its key: every write must be conditional.
  PutObject: (i) => (i.IfNoneMatch === '*' ? undefined : 'PutObject without IfNoneMatch "*" could overwrite'),
  CreateMultipartUpload: () => undefined,
  CompleteMultipartUpload: (i) =>
    i.IfNoneMatch === '*' ? undefined : 'CompleteMultipartUpload without IfNoneMatch "*" could overwrite',
  PutObjectRetention: (i) => (i.BypassGovernanceRetention ? 'BypassGovernanceRetention shortens a lock' : undefined),
  ModifyDBInstance: (i) => (i.DeletionProtection === false ? 'turning deletion protection off' : undefined),
  ModifyDBCluster: (i) => (i.DeletionProtection === false ? 'turning deletion protection off' : undefined),
};

/** Refused by the guard; carries the refused command name. */
export class GuardRefusal extends InternalError {
  constructor(
    readonly command: string,
    reason: string,
  ) {
    super(`holdfast refused to send ${command}: ${reason} (the do-not-delete rule)`);
  }
}

/** Throws GuardRefusal when an AWS command would delete, stop, detach or overwrite. */
export function assertAwsCommandAllowed(commandName: string, input: Record<string, unknown> = {}): void {
  const name = commandName.replace(/Command$/, '');
  if (DESTRUCTIVE_PREFIXES.some((p) => name.startsWith(p)) || DESTRUCTIVE_COMMANDS.has(name)) {
    throw new GuardRefusal(name, 'destructive API');
  }
  const reason = DESTRUCTIVE_PARAMS[name]?.(input);
  if (reason) throw new GuardRefusal(name, reason);
}

interface MiddlewareStackLike {
  add(middleware: unknown, options: { step: 'initialize'; name: string; priority?: 'high' }): void;
}

/** Install the guard as the first initialize-step middleware of an AWS SDK v3 client. */
export function guardAwsClient<C extends { middlewareStack: MiddlewareStackLike }>(client: C): C {
  client.middlewareStack.add(
    (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: Record<string, unknown> }) => {
        assertAwsCommandAllowed(context.commandName ?? 'UnknownCommand', args.input);
        return next(args);
      },
    { step: 'initialize', name: 'holdfastDoNotDeleteGuard', priority: 'high' },
  );
  return client;
}

/** Throws GuardRefusal for a Kubernetes request that deletes or evicts. */
export function assertKubeRequestAllowed(method: string, path: string): void {
  const verb = method.toUpperCase();
  if (verb === 'DELETE') throw new GuardRefusal(`DELETE ${path}`, 'destructive API');
  if (verb === 'POST' && /\/(eviction|binding)$/.test(path)) {
    throw new GuardRefusal(`POST ${path}`, 'eviction would kill the pod');
  }
}
