/**
 * Reconcile before retry. A create call with no idempotency token whose answer is lost (connection
 * dropped after sending, timeout, 5xx) may have happened: the SDK's own retry would send it again
 * and make a second snapshot set or group. This middleware sits inside the SDK's retry loop and
 * turns such a failure into one the SDK does not retry; the step's retry then looks for the result
 * (by tags or name) before it creates anything. Throttling answers mean "not done" and are retried
 * by the SDK as usual. What counts as "may have happened" is `outcomeUnknown` (src/aws/errors.ts).
 */
import { outcomeUnknown, UNCONFIRMED_CALL_ERROR } from './errors.js';

/** Calls that create something and have no client token: never sent twice blind. */
export const UNCONFIRMED_CREATE_COMMANDS = new Set([
  'CreateSnapshots',
  'CreateSnapshot',
  'CopySnapshot',
  'CreateSecurityGroup',
  'CreateTags',
  'CreateDBSnapshot',
  'CreateDBClusterSnapshot',
  'CopyDBSnapshot',
  'CopyDBClusterSnapshot',
  'AddTagsToResource',
]);

interface RelativeStack {
  addRelativeTo(middleware: unknown, options: { relation: 'after'; toMiddleware: string; name: string }): void;
}

/** Install inside the SDK retry loop of `client` (name of smithy's retry middleware: retryMiddleware). */
export function noBlindRetries(client: { middlewareStack: unknown }): void {
  const stack = client.middlewareStack as Partial<RelativeStack>;
  if (typeof stack.addRelativeTo !== 'function') return; // not an SDK v3 stack (a test double)
  stack.addRelativeTo(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const command = (context.commandName ?? '').replace(/Command$/, '');
      try {
        return await next(args);
      } catch (error) {
        if (!UNCONFIRMED_CREATE_COMMANDS.has(command) || !outcomeUnknown(error)) throw error;
        // No `cause` and no status: the SDK's classifier would find the original's transience there.
        throw Object.assign(
          new Error(
            `${command} may have been carried out but its answer was lost (${(error as Error).name}: ${(error as Error).message}); its result is looked up before anything is created again`,
          ),
          { name: UNCONFIRMED_CALL_ERROR, original: error },
        );
      }
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'holdfastNoBlindRetries' },
  );
}
