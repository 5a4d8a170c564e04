/**
 * Read-only discovery of the roles and users to contain: roles named directly, behind targeted
 * instances' profiles and behind targeted pods' service accounts (IRSA), with their blast radius.
 */
import { BadInputError, type InputProblem } from '../../src/core/errors.js';
import type { ProviderContext } from '../../src/core/types.js';
import {
  accessKeys,
  getRole,
  getUser,
  instanceProfilesOfRole,
  instancesWithProfiles,
  roleOfInstanceProfile,
} from './client.js';
import { iamClientsFor } from './context.js';
import type { IamFacts, IamParams, RoleFacts, RoleReason, UserFacts } from './facts.js';

/** The last path segment of an ARN (a role, user or profile name). */
export const nameOfArn = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

const split = (pair: string): [string, string] => {
  const eq = pair.indexOf('=');
  return [pair.slice(0, eq), pair.slice(eq + 1)];
};

/** Describe the targeted roles and users; unknown names given directly are BadInput. */
export async function discoverIam(params: IamParams, ctx: ProviderContext): Promise<IamFacts> {
  const c = iamClientsFor(ctx);
  const problems: InputProblem[] = [];
  const notes: string[] = [];
  const roles = new Map<string, RoleFacts>();
  const addRole = (role: { name: string; arn: string }, reason: RoleReason) => {
    const known = roles.get(role.name);
    if (known) known.reasons.push(reason);
    else
      roles.set(role.name, {
        ...role,
        reasons: [reason],
        instanceProfiles: [],
        otherInstances: [],
        serviceAccounts: [],
        revoke: true,
      });
  };

  // Problems name the case path; indices count the validated case's lists.
  for (const [i, r] of params.roles.entries()) {
    const role = await getRole(c, r.startsWith('arn:') ? nameOfArn(r) : r);
    if (!role) problems.push({ field: `targets.iam.roles[${i}]`, message: `${r}: no such role`, continues: true });
    else addRole(role, { kind: 'named', via: null });
  }

  const severityImplies = ctx.kase.severity === 'high';
  for (const pair of params.instanceProfiles) {
    const [instanceId, profileArn] = split(pair);
    if (!severityImplies && !params.revokeRoleSessions) {
      notes.push(
        `${instanceId} runs with instance profile ${nameOfArn(profileArn)}: its role's sessions are not revoked at severity ${ctx.kase.severity}; add --revoke-role-sessions to revoke them`,
      );
      continue;
    }
    const role = await roleOfInstanceProfile(c, nameOfArn(profileArn));
    if (role === 'no-profile') notes.push(`${instanceId}'s instance profile ${profileArn} no longer exists`);
    else if (!role)
      notes.push(`${instanceId}'s instance profile ${nameOfArn(profileArn)} holds no role: no session to revoke`);
    else addRole(role, { kind: 'instance-profile', via: instanceId });
  }

  for (const pair of params.podRoles) {
    const [pod, roleArn] = split(pair);
    if (!params.revokePodRoles) {
      notes.push(`pod ${pod} uses IRSA role ${nameOfArn(roleArn)}: add --revoke-pod-roles to revoke its sessions`);
      continue;
    }
    const role = await getRole(c, nameOfArn(roleArn));
    if (!role) notes.push(`pod ${pod}'s service account names role ${roleArn}, which does not exist`);
    else addRole(role, { kind: 'pod', via: pod });
  }

  const suspects = new Set(params.instanceProfiles.map((p) => split(p)[0]));
  for (const role of roles.values()) {
    role.instanceProfiles = await instanceProfilesOfRole(c, role.name);
    role.otherInstances = (await instancesWithProfiles(c, role.instanceProfiles)).filter(
      (i) => !suspects.has(i.instanceId),
    );
    role.serviceAccounts = params.podRoleServiceAccounts
      .map(split)
      .filter(([, arn]) => arn === role.arn || nameOfArn(arn) === role.name)
      .map(([sa]) => sa)
      .sort();
  }

  const users: UserFacts[] = [];
  for (const [i, name] of params.users.entries()) {
    const user = await getUser(c, name);
    if (!user) {
      problems.push({ field: `targets.iam.users[${i}]`, message: `${name}: no such user`, continues: true });
      continue;
    }
    const keys = await accessKeys(c, name);
    users.push({
      ...user,
      activeKeys: keys.filter((k) => k.status === 'Active').map((k) => k.id),
      inactiveKeys: keys.filter((k) => k.status !== 'Active').map((k) => k.id),
    });
  }
  if (problems.length) throw new BadInputError(problems);
  return { params, roles: [...roles.values()].sort((a, b) => a.name.localeCompare(b.name)), users, notes };
}
