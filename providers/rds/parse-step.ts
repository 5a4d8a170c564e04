/**
 * A saved plan's RDS step, checked like fresh input: its action is one of ours, every input has the
 * type and syntax the planner writes, and what the case decides (the databases, the snapshot name,
 * the region, --approve-pending) is what the case says. Pure: no call is made.
 */
import type { InputProblem } from '../../src/core/errors.js';
import {
  anyObject,
  bool,
  caseRegion,
  equals,
  listOf,
  nullable,
  shape,
  targetProblems,
  text,
  type Check,
} from '../../src/core/input-shape.js';
import type { Case, Step } from '../../src/core/types.js';
import type { RdsParams } from './facts.js';
import { rdsSnapshotIdentifier } from './snapshot-id.js';
import type { RdsActions, RdsStep } from './steps.js';

/** RDS identifiers, as parseRdsParams takes them. */
const DB_ID = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;
const dbId = text(DB_ID, 'is not an RDS identifier');
const vpcId = text(/^vpc-[0-9a-z]{1,32}$/, 'is not a VPC id');
const hostname = text(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$/, 'is not a host name');

/** The inputs of each action, given the case and the step's database. */
function inputShapes(kase: Case, params: RdsParams, kind: string, id: string): Record<keyof RdsActions, Check> {
  const db = { kind: equals(kind, "the step's id"), id: equals(id, "the step's id") };
  const snapshotId = equals(
    rdsSnapshotIdentifier(kase.incident, `${kind === 'cluster' ? 'cluster' : 'db'}-${id}`),
    'the incident and the database',
  );
  const region = caseRegion(kase);
  return {
    protect: shape({
      ...db,
      arn: text(
        new RegExp(`^arn:aws[a-z-]*:rds:[a-z0-9-]+:\\d{12}:${kind === 'cluster' ? 'cluster' : 'db'}:${escaped(id)}$`),
        "is not the ARN of the step's database",
      ),
      deletionProtection: bool,
    }),
    snapshot: shape({
      ...db,
      snapshotId,
      region,
      engine: text(/^[a-z0-9-]{1,64}$/, 'is not an RDS engine name'),
      members: listOf(dbId),
    }),
    'isolation-group': shape({ vpcId }),
    isolate: shape({
      ...db,
      vpcId,
      endpoint: nullable(hostname),
      pendingModifiedValues: anyObject,
      approvePending: equals(params.approvePending, 'targets.rds.approvePending in the case'),
    }),
    settle: shape({ ...db, snapshotId }),
  };
}

/**
 * Check one RDS step of a saved plan against its case; fields are paths in the step (`inputs.id`).
 * A DB instance must be one the case names; a cluster too, unless the case names DB instances
 * (an Aurora member is captured through its cluster, which only discovery knows: its syntax is checked).
 */
export function parseRdsStep(step: Step, kase: Case): { step?: RdsStep; problems: InputProblem[] } {
  const params = kase.targets.rds as RdsParams | undefined;
  if (!params) return { problems: [{ field: 'provider', message: 'rds has no targets in the case' }] };
  const problems: InputProblem[] = [];
  const [action = '', ...rest] = step.id.slice('rds:'.length).split('/');
  if (action !== step.action) problems.push({ field: 'id', message: `does not name the step's action ${step.action}` });
  const [kind = '', id = ''] = rest.length === 2 ? rest : ['', rest.join('/')];
  const shapes = inputShapes(kase, params, kind, id);
  if (!Object.hasOwn(shapes, step.action)) {
    problems.push({ field: 'action', message: `${JSON.stringify(step.action)} is not an RDS action` });
    return { problems };
  }
  if (step.action === 'isolation-group') {
    if (!/^vpc-[0-9a-z]{1,32}$/.test(id))
      problems.push({ field: 'id', message: `${JSON.stringify(id)} is not a VPC id`, continues: true });
    problems.push(...targetProblems(step, `rds:vpc:${id}`));
    shapes['isolation-group'](step.inputs, 'inputs', problems);
    equals(id, "the step's id")(step.inputs.vpcId, 'inputs.vpcId', problems);
  } else {
    if (kind !== 'instance' && kind !== 'cluster')
      problems.push({ field: 'id', message: 'does not name a DB instance or cluster (instance/<id>, cluster/<id>)' });
    else if (!DB_ID.test(id))
      problems.push({ field: 'id', message: `${JSON.stringify(id)} is not an RDS identifier`, continues: true });
    else if (
      kind === 'instance'
        ? !params.dbInstances.includes(id)
        : !params.dbClusters.includes(id) && !params.dbInstances.length
    )
      problems.push({
        field: 'inputs.id',
        message: `${JSON.stringify(id)} is not among targets.rds.${kind === 'instance' ? 'dbInstances' : 'dbClusters'} in the case`,
        continues: true,
      });
    problems.push(...targetProblems(step, `rds:${kind}/${id}`));
    shapes[step.action as keyof RdsActions](step.inputs, 'inputs', problems);
  }
  return problems.length ? { problems } : { step: step as RdsStep, problems };
}

const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
