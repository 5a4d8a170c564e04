/** RDS flags and params: DB instances and Aurora clusters by identifier. */
import { valueProblem, type InputProblem } from '../../src/core/errors.js';
import { paramReader } from '../../src/core/provider-kit.js';
import type { JsonObject, ProviderFlag } from '../../src/core/types.js';
import type { RdsParams } from './facts.js';

export const rdsFlags: ProviderFlag[] = [
  {
    flags: '--db-instance <id>',
    description: 'RDS DB instance (an Aurora member is captured through its cluster; repeatable)',
    param: 'dbInstances',
    repeatable: true,
    target: true,
  },
  {
    flags: '--db-cluster <id>',
    description: 'Aurora DB cluster (repeatable)',
    param: 'dbClusters',
    repeatable: true,
    target: true,
  },
  {
    flags: '--approve-pending',
    description: 'allow isolation to apply pending modifications at once (ApplyImmediately)',
    param: 'approvePending',
    boolean: true,
  },
];

/** RDS identifiers: 1–63 letters, digits or hyphens, starting with a letter. */
const DB_ID = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

/** Parse raw params (flags or case file); problems name case paths (`targets.rds.dbInstances[0]`). */
export function parseRdsParams(raw: JsonObject): { params?: RdsParams; problems: InputProblem[] } {
  const read = paramReader('rds', raw, ['dbInstances', 'dbClusters', 'approvePending']);
  const { problems } = read;
  const instanceItems = read.list('dbInstances', true);
  const clusterItems = read.list('dbClusters', true);
  for (const { text, at } of instanceItems)
    if (!DB_ID.test(text)) problems.push(valueProblem(at, text, 'is not a DB instance identifier'));
  for (const { text, at } of clusterItems)
    if (!DB_ID.test(text)) problems.push(valueProblem(at, text, 'is not a DB cluster identifier'));
  const dbInstances = [...new Set(instanceItems.map((i) => i.text))];
  const dbClusters = [...new Set(clusterItems.map((c) => c.text))];
  if (!dbInstances.length && !dbClusters.length)
    problems.push({ field: 'targets.rds', message: 'give targets.rds.dbInstances or targets.rds.dbClusters' });
  const approvePending = read.flag('approvePending');
  return read.result({
    dbInstances,
    dbClusters,
    approvePending,
  });
}
