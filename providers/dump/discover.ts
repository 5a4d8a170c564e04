/** Dump discovery: the password, the local tool and the server's version for each target; read-only. */
import { BadInputError, type InputProblem } from '../../src/core/errors.js';
import type { ProviderContext } from '../../src/core/types.js';
import type { DumpFacts } from './facts.js';
import type { DumpParams } from './params.js';
import { findDumpTool, majorVersion, resolvePassword, serverVersion } from './tools.js';

export async function discoverDumps(params: DumpParams, ctx: ProviderContext): Promise<DumpFacts> {
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
