/**
 * The dump step: the tool's output streamed through the engine's hashing into the store (constant
 * memory, no temp file); a dump whose tool fails or is killed is never recorded as complete.
 */
import { childProcessStream } from '../../src/core/child-process-stream.js';
import { RemoteError } from '../../src/core/errors.js';
import type { StepContext, StepOutcome } from '../../src/core/types.js';
import type { DumpActions, DumpStep } from './steps.js';
import { classifyToolError, dumpArgs, resolvePassword, secretFileFor, toolEnv } from './tools.js';

export async function runDump(ctx: StepContext<DumpStep>): Promise<StepOutcome<DumpActions['dump']['outputs']>> {
  const facts = ctx.step.inputs;
  const params = facts.params;
  const password = resolvePassword(params, ctx.env, facts);
  const secret = secretFileFor(facts, password);
  const args = dumpArgs(facts, params, secret);
  const startedAt = new Date().toISOString();
  try {
    const child = childProcessStream(facts.tool, args, {
      env: toolEnv(ctx.env, facts, secret),
      // Ctrl-C stops the dump at once (SIGTERM); the partial output is never recorded.
      signal: ctx.signal,
      describeFailure: (stderr, code, signal) => {
        const c = classifyToolError(facts, stderr, password);
        const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
        return new RemoteError(
          `${facts.tool} ${how}; the dump is incomplete and was not recorded: ${c.message}`,
          c.kind === 'unreachable',
        );
      },
    });
    const artifact = await ctx.putArtifact(
      {
        name: `${facts.database}.${facts.engine === 'postgres' ? 'pgdump' : 'sql'}`,
        type: facts.engine === 'postgres' ? 'postgres-dump' : 'mariadb-dump',
        source: {
          engine: facts.engine,
          host: facts.host,
          port: facts.port,
          database: facts.database,
          user: facts.user,
          serverVersion: facts.serverVersion,
        },
        acquiredAt: startedAt,
        method: {
          tool: facts.toolVersion,
          // Options without the secret file's path (it is gone once the dump ends).
          options: args.filter((a) => !a.startsWith('--defaults-extra-file')),
          format: facts.engine === 'postgres' ? 'pg_dump custom (-Fc)' : 'SQL',
          consistency:
            facts.engine === 'postgres'
              ? params.serializableDeferrable
                ? 'serializable deferrable snapshot'
                : 'repeatable-read snapshot'
              : 'single transaction (InnoDB tables only)',
        },
        contentType: 'application/octet-stream',
      },
      child.stdout,
    );
    await child.exited;
    const limitations =
      facts.engine === 'mariadb'
        ? [
            `${facts.url}: --single-transaction is consistent only for InnoDB tables; other engines were read as they changed`,
          ]
        : [];
    return { outputs: { sha256: artifact.sha256 ?? null, size: artifact.size ?? null }, limitations };
  } finally {
    secret?.remove();
  }
}
