/**
 * A saved plan's dump step, checked like fresh input: the database is one the case names, with the
 * case's params, and the tool is one of the engine's dump tools (a plan names the program that runs).
 */
import type { InputProblem } from '../../src/core/errors.js';
import { equals, shape, text, type Check } from '../../src/core/input-shape.js';
import type { Case, JsonObject, Step } from '../../src/core/types.js';
import { dumpStepId, type DumpStep } from './steps.js';
import type { DumpEngine, DumpParams } from './params.js';
import { DUMP_TOOLS } from './tools.js';

/** Check one dump step against its case; fields are paths in the step (`inputs.tool`). */
export function parseDumpStep(step: Step, kase: Case): { step?: DumpStep; problems: InputProblem[] } {
  const params = kase.targets.dump as DumpParams | undefined;
  if (!params) return { problems: [{ field: 'provider', message: 'dump has no targets in the case' }] };
  if (step.action !== 'dump')
    return { problems: [{ field: 'action', message: `${JSON.stringify(step.action)} is not a dump action` }] };
  const target = params.targets.find((t) => `dump:${dumpStepId(t)}` === step.id);
  if (!target) return { problems: [{ field: 'id', message: 'names no database of targets.dump in the case' }] };
  const problems: InputProblem[] = [];
  const fromCase = Object.fromEntries(
    Object.entries(target).map(([k, v]) => [k, equals(v, `targets.dump in the case (${target.url})`)]),
  );
  shape({
    ...fromCase,
    params: equals(params, 'targets.dump in the case'),
    tool: dumpTool(target.engine),
    toolVersion: text(),
    serverVersion: text(),
  })(step.inputs, 'inputs', problems);
  if (step.target !== `db:${target.host}:${target.port}/${target.database}`)
    problems.push({ field: 'target', message: "is not the database the step's id names" });
  return problems.length ? { problems } : { step: step as DumpStep, problems };
}

/** Where a dump tool may be named by its path: the system's own directories, never one a user writes. */
const SYSTEM_BIN = /^\/(usr\/(local\/)?bin|bin|usr\/lib\/postgresql\/\d+\/bin)\/$/;

/** One of the engine's dump tools, by name (as discovery finds it on the PATH) or in a system directory. */
function dumpTool(engine: DumpEngine): Check {
  const names = DUMP_TOOLS[engine];
  return (value, at, problems) => {
    const tool = typeof value === 'string' ? value : '';
    const slash = tool.lastIndexOf('/') + 1;
    const dir = tool.slice(0, slash);
    if (!names.includes(tool.slice(slash)) || (dir && !SYSTEM_BIN.test(dir)))
      problems.push({
        field: at,
        message: `is ${JSON.stringify(value)}, not one of the ${engine} dump tools (${names.join(', ')}) on the PATH or in a system directory`,
        continues: true,
      });
  };
}

/** The raw params that parse to `params` (the parsed form lists `targets`; a case file lists `databases`). */
export function dumpParamsInput(params: DumpParams): JsonObject {
  const { targets, passwordEnv, passwordFile, ...rest } = params;
  const source = (env: string | null, file: string | null) => ({
    ...(env ? { passwordEnv: env } : {}),
    ...(file ? { passwordFile: file } : {}),
  });
  return {
    ...rest,
    ...source(passwordEnv, passwordFile),
    databases: targets.map((t) => ({ url: t.url, ...source(t.passwordEnv, t.passwordFile) })),
  };
}
