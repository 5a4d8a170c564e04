/**
 * Every AWS SDK client holdfast builds passes here: the do-not-delete guard (src/core/guard.ts) as
 * its first middleware, and no blind re-sending of a create whose answer was lost.
 */
import { assertAwsCommandAllowed, type GuardMode } from '../core/guard.js';
import { noBlindRetries } from './no-blind-retry.js';

interface MiddlewareStackLike {
  add(middleware: unknown, options: { step: 'initialize'; name: string; priority?: 'high' }): void;
}

/**
 * Install the guard as the first initialize-step middleware of an AWS SDK v3 client (`mode` is fixed
 * at build time), and (every client passes here) stop the SDK from blindly re-sending a create whose
 * answer was lost.
 */
export function guardAwsClient<C extends { middlewareStack: MiddlewareStackLike }>(client: C, mode: GuardMode = {}): C {
  const fixed: GuardMode = { ...mode };
  client.middlewareStack.add(
    (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: Record<string, unknown> }) => {
        assertAwsCommandAllowed(context.commandName ?? 'UnknownCommand', args.input, fixed);
        return next(args);
      },
    { step: 'initialize', name: 'holdfastDoNotDeleteGuard', priority: 'high' },
  );
  noBlindRetries(client);
  return client;
}
