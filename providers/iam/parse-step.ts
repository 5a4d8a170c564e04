/**
 * A saved plan's IAM step, checked like fresh input: its action is one of ours, every input has the
 * type and syntax the planner writes, and what the case decides (the roles and users, why a role is
 * in the plan, the revocation policy's name) is what the case says. Pure: no call is made.
 */
import type { InputProblem } from '../../src/core/errors.js';
import { equals, listOf, nullable, shape, targetProblems, text, type Check } from '../../src/core/input-shape.js';
import type { Case, Step } from '../../src/core/types.js';
import type { BlastRadius, IamParams } from './facts.js';
import { blastRadius } from './plan.js';
import { revocationPolicyArn, revocationPolicyName } from './revocation-policy.js';
import type { IamActions, IamStep } from './steps.js';

/** IAM user and role names: 1–64 of letters, digits and `+=,.@_-` (as parseIamParams takes them). */
const PRINCIPAL_NAME = /^[\w+=,.@-]{1,64}$/;
const arnOf = (kind: 'role' | 'user' | 'instance-profile') =>
  new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:${kind}/([\\w+=,.@/-]*/)?[\\w+=,.@-]{1,128}$`);
const KUBE_REF = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** An ARN of `kind` whose name is the step's. */
function principalArn(kind: 'role' | 'user', name: string): Check {
  return (value, at, problems) => {
    text(arnOf(kind), `is not an IAM ${kind} ARN`)(value, at, problems);
    if (typeof value === 'string' && arnOf(kind).test(value) && nameOfArn(value) !== name)
      problems.push({ field: at, message: `does not name ${kind} ${name}, the step's`, continues: true });
  };
}

const blastShape = shape({
  instances: listOf(text(INSTANCE_ID, 'is not an EC2 instance id')),
  instanceProfiles: listOf(text(arnOf('instance-profile'), 'is not an instance profile ARN')),
  serviceAccounts: listOf(text(KUBE_REF, 'is not namespace/name')),
});

/** The last path segment of an ARN (as discovery reads it), or the name itself. */
const nameOfArn = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const split = (pair: string): [string, string] => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];

/** Why a role is in the plan: each reason must be one the case gives (a named role, a targeted instance or pod). */
function reasonsFrom(params: IamParams, roleName: string): Check {
  const named = params.roles.map(nameOfArn);
  const instances = params.instanceProfiles.map((p) => split(p)[0]);
  const pods = params.podRoles.map(split).filter(([, arn]) => nameOfArn(arn) === roleName);
  const reason = shape({
    kind: text(/^(named|instance-profile|pod)$/, 'is not named, instance-profile or pod'),
    via: nullable(text()),
  });
  return (value, at, problems) => {
    listOf(reason)(value, at, problems);
    if (!Array.isArray(value)) return;
    if (!value.length) problems.push({ field: at, message: 'is empty: every role is in the plan for a reason' });
    value.forEach((r: { kind?: unknown; via?: unknown }, i) => {
      const ok =
        r?.kind === 'named'
          ? r.via === null && named.includes(roleName)
          : r?.kind === 'instance-profile'
            ? instances.includes(String(r.via))
            : r?.kind === 'pod' && pods.some(([pod]) => pod === r.via);
      if (!ok) problems.push({ field: `${at}[${i}]`, message: 'is not a reason the case gives', continues: true });
    });
  };
}

/** The inputs of each action, given the case and the step's principal. */
function inputShapes(kase: Case, params: IamParams, name: string, step: Step): Record<keyof IamActions, Check> {
  const roleArn = typeof step.inputs.roleArn === 'string' ? step.inputs.roleArn : '';
  const policyName = revocationPolicyName(kase.incident, name);
  const blast = step.inputs.blastRadius as BlastRadius | undefined;
  const radiusText = (value: unknown, at: string, problems: InputProblem[]) => {
    const fine: InputProblem[] = [];
    blastShape(blast, 'inputs.blastRadius', fine);
    if (fine.length || !blast) return; // the blast radius itself is refused
    const role = {
      otherInstances: blast.instances.map((instanceId) => ({ instanceId, instanceProfile: '' })),
      instanceProfiles: blast.instanceProfiles,
      serviceAccounts: blast.serviceAccounts,
    };
    equals(blastRadius(role), 'the blast radius')(value, at, problems);
  };
  return {
    'record-role': shape({
      roleName: equals(name, "the step's id"),
      roleArn: principalArn('role', name),
      reasons: reasonsFrom(params, name),
      blastRadius: blastShape,
    }),
    'record-user': shape({ userName: equals(name, "the step's id"), userArn: principalArn('user', name) }),
    'revoke-sessions': shape({
      roleName: equals(name, "the step's id"),
      roleArn: principalArn('role', name),
      policyName: equals(policyName, 'the incident and the role'),
      policyArn: equals(revocationPolicyArn(roleArn, policyName), "the role's account and the policy name"),
      blastRadius: blastShape,
      blastRadiusText: radiusText,
    }),
    'deactivate-keys': shape({
      userName: equals(name, "the step's id"),
      userArn: principalArn('user', name),
      activeKeys: listOf(text(/^[A-Z0-9]{16,128}$/, 'is not an access key id')),
    }),
  };
}

const ID_SHAPES: Record<keyof IamActions, [prefix: string, kind: 'role' | 'user']> = {
  'record-role': ['record/role/', 'role'],
  'record-user': ['record/user/', 'user'],
  'revoke-sessions': ['revoke-sessions/role/', 'role'],
  'deactivate-keys': ['deactivate-keys/user/', 'user'],
};

/**
 * Check one IAM step of a saved plan against its case; fields are paths in the step (`inputs.roleName`).
 * A user must be one the case names; a role too (by name, ARN or a pod's role ARN), unless the case
 * targets instance profiles (their roles only discovery knows: then its syntax is checked).
 */
export function parseIamStep(step: Step, kase: Case): { step?: IamStep; problems: InputProblem[] } {
  const params = kase.targets.iam as IamParams | undefined;
  if (!params) return { problems: [{ field: 'provider', message: 'iam has no targets in the case' }] };
  if (!Object.hasOwn(ID_SHAPES, step.action))
    return { problems: [{ field: 'action', message: `${JSON.stringify(step.action)} is not an IAM action` }] };
  const action = step.action as keyof IamActions;
  const [prefix, kind] = ID_SHAPES[action];
  const problems: InputProblem[] = [];
  const local = step.id.slice('iam:'.length);
  const name = local.startsWith(prefix) ? local.slice(prefix.length) : '';
  if (!local.startsWith(prefix)) problems.push({ field: 'id', message: `does not start with iam:${prefix}` });
  else if (!PRINCIPAL_NAME.test(name))
    problems.push({ field: 'id', message: `${JSON.stringify(name)} is not an IAM ${kind} name`, continues: true });
  else if (kind === 'user' ? !params.users.includes(name) : !roleInCase(params, name))
    problems.push({
      field: `inputs.${kind}Name`,
      message: `${JSON.stringify(name)} is not among targets.iam.${kind}s${kind === 'role' ? ' (or targets.iam.podRoles)' : ''} in the case`,
      continues: true,
    });
  problems.push(...targetProblems(step, `iam:${kind}/${name}`));
  inputShapes(kase, params, name, step)[action](step.inputs, 'inputs', problems);
  return problems.length ? { problems } : { step: step as IamStep, problems };
}

function roleInCase(params: IamParams, name: string): boolean {
  return (
    params.instanceProfiles.length > 0 ||
    params.roles.some((r) => nameOfArn(r) === name) ||
    params.podRoles.some((p) => nameOfArn(split(p)[1]) === name)
  );
}
