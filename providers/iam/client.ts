/**
 * The only file of the IAM provider that imports AWS SDKs: IAM, EC2 (which instances share a
 * profile: the blast radius) and STS (who is asking, for the dry run's simulation). Every client is
 * guarded; `release` is a second IAM client whose guard lets DetachRolePolicy through for holdfast's
 * own revocation policy only. A bundle can be injected through `ctx.clients.iam`.
 */
import { DescribeInstancesCommand, EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  DetachRolePolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListPolicyTagsCommand,
  SimulatePrincipalPolicyCommand,
  UpdateAccessKeyCommand,
  paginateListAccessKeys,
  paginateListAttachedRolePolicies,
  paginateListAttachedUserPolicies,
  paginateListGroupsForUser,
  paginateListInstanceProfilesForRole,
  paginateListMFADevices,
  paginateListRolePolicies,
  paginateListUserPolicies,
  type AttachedPolicy,
  type IAMClientConfig,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import type { AwsClientConfig } from '../../src/aws/config.js';
import { isConflict, isNotFound } from '../../src/aws/errors.js';
import { guardAwsClient } from '../../src/aws/guard-client.js';
import type { Json, JsonObject } from '../../src/core/types.js';

/** The guarded SDK clients the IAM provider uses. */
declare module '../../src/core/types.js' {
  interface Clients {
    /** The IAM provider's bundle, as `createIamClients` builds it (injected: used as given). */
    iam?: IamClients;
  }
}

export interface IamClients {
  iam: IAMClient;
  /** Used by release only: may detach holdfast's own revocation policy, nothing else. */
  release: IAMClient;
  ec2: EC2Client;
  sts: STSClient;
}

/** Guarded clients (IAM is global; the region only signs the requests). */
export function createIamClients(config: AwsClientConfig): IamClients {
  return {
    iam: guardAwsClient(new IAMClient(config as IAMClientConfig)),
    release: guardAwsClient(new IAMClient(config as IAMClientConfig), { release: true }),
    ec2: guardAwsClient(new EC2Client(config as EC2ClientConfig)),
    sts: guardAwsClient(new STSClient(config as STSClientConfig)),
  };
}

async function orUndefined<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function all<P, T>(pages: AsyncIterable<P>, pick: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(pick(page) ?? []));
  return out;
}

/** IAM returns policy documents URL-encoded; the record keeps them as JSON. */
export function decodePolicyDocument(text: string | undefined): Json {
  if (text === undefined) return null;
  for (const candidate of [() => decodeURIComponent(text), () => text]) {
    try {
      return JSON.parse(candidate()) as Json;
    } catch {
      // next form
    }
  }
  return text;
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);

/** A role's name and ARN, or undefined when there is none. */
export async function getRole(c: IamClients, name: string): Promise<{ name: string; arn: string } | undefined> {
  const role = (await orUndefined(() => c.iam.send(new GetRoleCommand({ RoleName: name }))))?.Role;
  return role ? { name: role.RoleName!, arn: role.Arn! } : undefined;
}

/** A user's name and ARN, or undefined when there is none. */
export async function getUser(c: IamClients, name: string): Promise<{ name: string; arn: string } | undefined> {
  const user = (await orUndefined(() => c.iam.send(new GetUserCommand({ UserName: name }))))?.User;
  return user ? { name: user.UserName!, arn: user.Arn! } : undefined;
}

/** The role in an instance profile (a profile holds at most one), or undefined. */
export async function roleOfInstanceProfile(
  c: IamClients,
  profileName: string,
): Promise<{ name: string; arn: string } | undefined | 'no-profile'> {
  const profile = (
    await orUndefined(() => c.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName })))
  )?.InstanceProfile;
  if (!profile) return 'no-profile';
  const role = profile.Roles?.[0];
  return role ? { name: role.RoleName!, arn: role.Arn! } : undefined;
}

/** ARNs of the instance profiles that hold a role. */
export async function instanceProfilesOfRole(c: IamClients, roleName: string): Promise<string[]> {
  const profiles = await all(
    paginateListInstanceProfilesForRole({ client: c.iam }, { RoleName: roleName }),
    (p) => p.InstanceProfiles,
  );
  return profiles.map((p) => p.Arn!).sort();
}

/**
 * Live instances launched with any of `profileArns`. Listed and matched here rather than with the
 * `iam-instance-profile.arn` filter, which not every endpoint implements; one listing serves every
 * profile of the role.
 */
export async function instancesWithProfiles(
  c: IamClients,
  profileArns: readonly string[],
): Promise<{ instanceId: string; instanceProfile: string }[]> {
  if (!profileArns.length) return [];
  const out: { instanceId: string; instanceProfile: string }[] = [];
  let NextToken: string | undefined;
  do {
    const page = await c.ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }],
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    for (const r of page.Reservations ?? [])
      for (const i of r.Instances ?? []) {
        const arn = i.IamInstanceProfile?.Arn;
        if (arn && profileArns.includes(arn)) out.push({ instanceId: i.InstanceId!, instanceProfile: arn });
      }
    NextToken = page.NextToken;
  } while (NextToken);
  return out.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}

/** Attached managed policies with their default version's document. */
async function managedPolicies(c: IamClients, attached: AttachedPolicy[]): Promise<Json[]> {
  const out: Json[] = [];
  for (const a of attached) {
    const policy = (await orUndefined(() => c.iam.send(new GetPolicyCommand({ PolicyArn: a.PolicyArn! }))))?.Policy;
    const version = policy?.DefaultVersionId
      ? (await c.iam.send(new GetPolicyVersionCommand({ PolicyArn: a.PolicyArn!, VersionId: policy.DefaultVersionId })))
          .PolicyVersion
      : undefined;
    out.push({
      arn: a.PolicyArn!,
      name: a.PolicyName ?? null,
      defaultVersionId: policy?.DefaultVersionId ?? null,
      document: decodePolicyDocument(version?.Document),
    });
  }
  return out;
}

/** Everything about a role as it is now: trust policy, policies with documents, instance profiles. */
export async function roleRecord(c: IamClients, roleName: string): Promise<JsonObject> {
  const role = (await c.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role!;
  const attached = await all(
    paginateListAttachedRolePolicies({ client: c.iam }, { RoleName: roleName }),
    (p) => p.AttachedPolicies,
  );
  const inlineNames = await all(
    paginateListRolePolicies({ client: c.iam }, { RoleName: roleName }),
    (p) => p.PolicyNames,
  );
  const inline: Json[] = [];
  for (const PolicyName of inlineNames) {
    const p = await c.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName }));
    inline.push({ name: PolicyName, document: decodePolicyDocument(p.PolicyDocument) });
  }
  const profiles = await all(
    paginateListInstanceProfilesForRole({ client: c.iam }, { RoleName: roleName }),
    (p) => p.InstanceProfiles,
  );
  return {
    kind: 'role',
    name: role.RoleName!,
    arn: role.Arn!,
    roleId: role.RoleId ?? null,
    path: role.Path ?? null,
    createdAt: iso(role.CreateDate),
    maxSessionDurationSeconds: role.MaxSessionDuration ?? null,
    permissionsBoundary: role.PermissionsBoundary?.PermissionsBoundaryArn ?? null,
    lastUsed: role.RoleLastUsed
      ? { at: iso(role.RoleLastUsed.LastUsedDate), region: role.RoleLastUsed.Region ?? null }
      : null,
    tags: Object.fromEntries((role.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
    trustPolicy: decodePolicyDocument(role.AssumeRolePolicyDocument),
    attachedPolicies: await managedPolicies(c, attached),
    inlinePolicies: inline,
    instanceProfiles: profiles.map((p) => ({
      name: p.InstanceProfileName!,
      arn: p.Arn!,
      roles: (p.Roles ?? []).map((r) => r.Arn!),
    })),
  };
}

/** Everything about a user as it is now: policies with documents, groups, access keys (no secrets), MFA devices. */
export async function userRecord(c: IamClients, userName: string): Promise<JsonObject> {
  const user = (await c.iam.send(new GetUserCommand({ UserName: userName }))).User!;
  const attached = await all(
    paginateListAttachedUserPolicies({ client: c.iam }, { UserName: userName }),
    (p) => p.AttachedPolicies,
  );
  const inlineNames = await all(
    paginateListUserPolicies({ client: c.iam }, { UserName: userName }),
    (p) => p.PolicyNames,
  );
  const inline: Json[] = [];
  for (const PolicyName of inlineNames) {
    const p = await c.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName }));
    inline.push({ name: PolicyName, document: decodePolicyDocument(p.PolicyDocument) });
  }
  const groups = await all(paginateListGroupsForUser({ client: c.iam }, { UserName: userName }), (p) => p.Groups);
  const mfa = await all(paginateListMFADevices({ client: c.iam }, { UserName: userName }), (p) => p.MFADevices);
  const keys: Json[] = [];
  for (const k of await accessKeys(c, userName)) {
    const used = (await c.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k.id }))).AccessKeyLastUsed;
    keys.push({
      ...k,
      lastUsed: used
        ? { at: iso(used.LastUsedDate), service: used.ServiceName ?? null, region: used.Region ?? null }
        : null,
    });
  }
  return {
    kind: 'user',
    name: user.UserName!,
    arn: user.Arn!,
    userId: user.UserId ?? null,
    path: user.Path ?? null,
    createdAt: iso(user.CreateDate),
    passwordLastUsed: iso(user.PasswordLastUsed),
    permissionsBoundary: user.PermissionsBoundary?.PermissionsBoundaryArn ?? null,
    tags: Object.fromEntries((user.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
    attachedPolicies: await managedPolicies(c, attached),
    inlinePolicies: inline,
    groups: groups.map((g) => ({ name: g.GroupName!, arn: g.Arn! })),
    accessKeys: keys,
    mfaDevices: mfa.map((m) => ({ serialNumber: m.SerialNumber!, enabledAt: iso(m.EnableDate) })),
  };
}

/** A user's access keys: id, status and creation time (the secret is never returned by IAM). */
export async function accessKeys(
  c: IamClients,
  userName: string,
): Promise<{ id: string; status: string; createdAt: string | null }[]> {
  const keys = await all(paginateListAccessKeys({ client: c.iam }, { UserName: userName }), (p) => p.AccessKeyMetadata);
  return keys
    .map((k) => ({ id: k.AccessKeyId!, status: k.Status ?? 'unknown', createdAt: iso(k.CreateDate) }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Set one access key Active or Inactive (never deletes it). */
export async function setAccessKeyStatus(
  c: IamClients,
  userName: string,
  keyId: string,
  status: 'Active' | 'Inactive',
): Promise<void> {
  await c.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: keyId, Status: status }));
}

/** A managed policy with its default document and tags, or undefined. */
export async function findPolicy(
  c: IamClients,
  arn: string,
): Promise<{ arn: string; defaultVersionId: string; document: Json; tags: Record<string, string> } | undefined> {
  const policy = (await orUndefined(() => c.iam.send(new GetPolicyCommand({ PolicyArn: arn }))))?.Policy;
  if (!policy) return undefined;
  const version = (
    await c.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.DefaultVersionId! }))
  ).PolicyVersion;
  const tags = (await c.iam.send(new ListPolicyTagsCommand({ PolicyArn: arn }))).Tags ?? [];
  return {
    arn,
    defaultVersionId: policy.DefaultVersionId!,
    document: decodePolicyDocument(version?.Document),
    tags: Object.fromEntries(tags.map((t) => [t.Key!, t.Value ?? ''])),
  };
}

/** Create a managed policy under holdfast's path; false when one of that name exists already. */
export async function createPolicy(
  c: IamClients,
  input: { name: string; path: string; document: JsonObject; description: string; tags: Record<string, string> },
): Promise<boolean> {
  try {
    await c.iam.send(
      new CreatePolicyCommand({
        PolicyName: input.name,
        Path: input.path,
        PolicyDocument: JSON.stringify(input.document),
        Description: input.description,
        Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    return true;
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}

/** ARNs of the managed policies attached to a role now; undefined when the role is gone. */
export async function attachedPolicyArns(c: IamClients, roleName: string): Promise<string[] | undefined> {
  return orUndefined(async () =>
    (
      await all(paginateListAttachedRolePolicies({ client: c.iam }, { RoleName: roleName }), (p) => p.AttachedPolicies)
    ).map((p) => p.PolicyArn!),
  );
}

/** Attach a managed policy to a role. */
export async function attachRolePolicy(c: IamClients, roleName: string, policyArn: string): Promise<void> {
  await c.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
}

/** Release only: detach holdfast's revocation policy (the release client's guard refuses any other). */
export async function detachRevocationPolicy(c: IamClients, roleName: string, policyArn: string): Promise<void> {
  await c.release.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
}

/** The caller's ARN (STS). */
export async function callerArn(c: IamClients): Promise<string | undefined> {
  return (await c.sts.send(new GetCallerIdentityCommand({}))).Arn;
}

/** Ask IAM whether `principalArn` may call `actions` on `resources`: action → decision. */
export async function simulatePrincipal(
  c: IamClients,
  principalArn: string,
  actions: string[],
  resources: string[],
  context: Record<string, string> = {},
): Promise<Record<string, string>> {
  const out = await c.iam.send(
    new SimulatePrincipalPolicyCommand({
      PolicySourceArn: principalArn,
      ActionNames: actions,
      ResourceArns: resources,
      ContextEntries: Object.entries(context).map(([ContextKeyName, value]) => ({
        ContextKeyName,
        ContextKeyValues: [value],
        ContextKeyType: 'string',
      })),
    }),
  );
  return Object.fromEntries((out.EvaluationResults ?? []).map((r) => [r.EvalActionName!, r.EvalDecision ?? 'unknown']));
}
