/**
 * Logical database dumps (pg_dump custom format, mariadb-dump single-transaction) streamed
 * through the engine's hashing into the evidence store: constant memory, no temp file, and a
 * dump whose tool fails or is killed is never recorded as complete.
 */
import { childProcessStream } from '../../src/core/child-process-stream.js';
import { BadInputError, RemoteError, type InputProblem } from '../../src/core/errors.js';
import { runByAction } from '../../src/core/provider-kit.js';
import type { Provider, StepContext, StepOf, StepOutcome } from '../../src/core/types.js';
import { dumpFlags, parseDumpParams, type DumpParams, type DumpTarget } from './params.js';
import { dumpParamsInput, parseDumpStep } from './parse-step.js';
import {
  classifyToolError,
  dumpArgs,
  findDumpTool,
  majorVersion,
  resolvePassword,
  secretFileFor,
  serverVersion,
  toolEnv,
} from './tools.js';

/** One planned dump: the target, the tool that will take it and the versions discovery found. */
export type PlannedDump = DumpTarget & { tool: string; toolVersion: string; serverVersion: string };

export interface DumpFacts {
  params: DumpParams;
  dumps: PlannedDump[];
}

/** The dump provider's one action. */
export type DumpActions = {
  dump: {
    inputs: PlannedDump & { params: DumpParams };
    outputs: { sha256: string | null; size: number | null };
  };
};

/** A dump step. */
export type DumpStep = StepOf<DumpActions>;

/** The step id of a target's dump (other providers relate to it by host). */
export function dumpStepId(t: DumpTarget): string {
  return `dump/${t.engine}/${t.host}-${t.port}-${t.database}`.replace(/[^A-Za-z0-9/._-]/g, '_');
}

async function discoverDumps(params: DumpParams, ctx: Parameters<Provider['discover']>[1]): Promise<DumpFacts> {
  const dumps: DumpFacts['dumps'] = [];
  const problems: InputProblem[] = [];
  for (const t of params.targets) {
    try {
      const password = resolvePassword(params, ctx.env, t);
      const tool = await findDumpTool(t.engine);
      const server = await serverVersion(t, password, ctx.env);
      if (
        t.engine === 'postgres' &&
        majorVersion(server) > majorVersion(tool.version.replace(/^pg_dump \(PostgreSQL\) /, ''))
      ) {
        throw new BadInputError({
          field: 'targets.dump',
          message: `${t.url}: the server is PostgreSQL ${server} and ${tool.version} refuses newer servers; install the matching postgresql-client`,
          continues: true,
        });
      }
      dumps.push({ ...t, tool: tool.path, toolVersion: tool.version, serverVersion: server });
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length) throw new BadInputError(problems);
  return { params, dumps };
}

async function runDump(ctx: StepContext<DumpStep>): Promise<StepOutcome<DumpActions['dump']['outputs']>> {
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

export const dumpProvider = {
  id: 'dump',
  summary: 'logical dumps of PostgreSQL (pg_dump -Fc) and MariaDB/MySQL (single transaction), streamed and hashed',
  flags: dumpFlags,
  policies: [],
  example:
    'DB_PW=… evidence capture --incident IR-2026-0042 --dump postgres://forensic@db.internal:5432/orders --dump-password-env DB_PW',
  parseParams: parseDumpParams,
  savedPlan: { parseStep: parseDumpStep, paramsInput: dumpParamsInput },
  discover: discoverDumps,
  plan(facts) {
    return {
      steps: facts.dumps.map((d) => ({
        id: dumpStepId(d),
        action: 'dump' as const,
        phase: 'collect' as const,
        target: `db:${d.host}:${d.port}/${d.database}`,
        title: `dump ${d.url} with ${d.tool}`,
        inputs: { ...d, params: facts.params },
      })),
      limitations: [],
    };
  },
  run: runByAction<DumpActions>('dump', { dump: runDump }),
} satisfies Provider<DumpParams, DumpFacts, DumpStep>;
