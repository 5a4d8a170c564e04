/** Validate the IAM provider's targets and options; every problem names its case path. */
import { valueProblem, type InputProblem } from '../../src/core/errors.js';
import { paramItems, paramReader } from '../../src/core/provider-kit.js';
import type { JsonObject, ProviderFlag } from '../../src/core/types.js';
import type { IamParams } from './facts.js';

/** IAM user and role names: 1–64 of letters, digits and `+=,.@_-`. */
const PRINCIPAL_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/([\w+=,.@/-]*\/)?[\w+=,.@-]{1,64}$/;
const INSTANCE_PROFILE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/([\w+=,.@/-]*\/)?[\w+=,.@-]{1,128}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const KUBE_REF = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** CLI flags that feed the IAM params. */
export const iamFlags: ProviderFlag[] = [
  {
    flags: '--iam-role <name>',
    description: 'IAM role (name or ARN) to record and whose existing sessions to revoke (repeatable)',
    param: 'roles',
    repeatable: true,
    target: true,
  },
  {
    flags: '--iam-user <name>',
    description: 'IAM user to record and whose active access keys to set Inactive (repeatable; nothing is deleted)',
    param: 'users',
    repeatable: true,
    target: true,
  },
  {
    flags: '--revoke-role-sessions',
    description: "revoke the sessions of each targeted instance's profile role (implied at --severity high)",
    param: 'revokeRoleSessions',
    boolean: true,
    target: true,
  },
  {
    flags: '--revoke-pod-roles',
    description: "revoke the sessions of each targeted pod's IRSA role (eks.amazonaws.com/role-arn; opt-in)",
    param: 'revokePodRoles',
    boolean: true,
    target: true,
  },
];

const KNOWN = [
  'roles',
  'users',
  'instanceProfiles',
  'podRoles',
  'podRoleServiceAccounts',
  'revokeRoleSessions',
  'revokePodRoles',
];

/** `left=right` pairs (derived targets); problems name the case path. */
function pairs(value: unknown, field: string, left: RegExp, right: RegExp, problems: InputProblem[]): string[] {
  const items = paramItems(value, `targets.iam.${field}`, true);
  for (const { text, at } of items) {
    const eq = text.indexOf('=');
    if (eq < 0 || !left.test(text.slice(0, eq)) || !right.test(text.slice(eq + 1)))
      problems.push(
        valueProblem(
          at,
          text,
          `: expected ${field === 'instanceProfiles' ? 'i-…=instance profile ARN' : 'namespace/name=role ARN'}`,
        ),
      );
  }
  return [...new Set(items.map((i) => i.text))];
}

/** Parse raw params (flags, case file or derived targets) into IamParams; problems name case paths. */
export function parseIamParams(raw: JsonObject): { params?: IamParams; problems: InputProblem[] } {
  const read = paramReader('iam', raw, KNOWN);
  const { problems } = read;
  const roleItems = read.list('roles', true);
  for (const { text, at } of roleItems)
    if (!PRINCIPAL_NAME.test(text) && !ROLE_ARN.test(text))
      problems.push(valueProblem(at, text, 'is not a role name or role ARN (arn:aws:iam::123456789012:role/name)'));
  const roles = [...new Set(roleItems.map((r) => r.text))];
  const userItems = read.list('users', true);
  for (const { text, at } of userItems)
    if (!PRINCIPAL_NAME.test(text)) problems.push(valueProblem(at, text, 'is not an IAM user name'));
  const users = [...new Set(userItems.map((u) => u.text))];
  const instanceProfiles = pairs(raw.instanceProfiles, 'instanceProfiles', INSTANCE_ID, INSTANCE_PROFILE_ARN, problems);
  const podRoles = pairs(raw.podRoles, 'podRoles', KUBE_REF, ROLE_ARN, problems);
  const podRoleServiceAccounts = pairs(
    raw.podRoleServiceAccounts,
    'podRoleServiceAccounts',
    KUBE_REF,
    ROLE_ARN,
    problems,
  );
  // The flags are read inside the call: their problems count before it decides.
  return read.result({
    roles,
    users,
    instanceProfiles,
    podRoles,
    podRoleServiceAccounts,
    revokeRoleSessions: read.flag('revokeRoleSessions'),
    revokePodRoles: read.flag('revokePodRoles'),
  });
}
