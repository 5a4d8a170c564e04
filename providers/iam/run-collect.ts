/** Collect: each role or user as it is now, one hashed JSON artifact each, before any change. */

import { roleRecord, userRecord } from './client.js';
import { iamClientsFor } from './context.js';
import type { IamOutcome, IamStepContext } from './steps.js';

const accountOf = (arn: string) => arn.split(':')[4] ?? '';

/** Record a role: trust policy, managed and inline policies with documents, instance profiles, last use. */
export async function runRecordRole(ctx: IamStepContext<'record-role'>): Promise<IamOutcome<'record-role'>> {
  const { roleName, roleArn, reasons, blastRadius } = ctx.step.inputs;
  const acquiredAt = new Date().toISOString();
  const record = { ...(await roleRecord(iamClientsFor(ctx), roleName)), reasons, blastRadius };
  const artifact = await ctx.putArtifact(
    {
      name: `role-${roleName}.json`,
      type: 'iam-role',
      source: { arn: roleArn, account: accountOf(roleArn) },
      acquiredAt,
      method: {
        api: 'iam:GetRole, ListAttachedRolePolicies, GetPolicy, GetPolicyVersion, ListRolePolicies, GetRolePolicy, ListInstanceProfilesForRole',
        consistency: 'successive reads, not one atomic view; documents URL-decoded',
      },
      contentType: 'application/json',
    },
    JSON.stringify(record, null, 2),
  );
  return { outputs: { artifact: artifact.id } };
}

/** Record a user: policies with documents, groups, access keys (status, last use; never a secret), MFA devices. */
export async function runRecordUser(ctx: IamStepContext<'record-user'>): Promise<IamOutcome<'record-user'>> {
  const { userName, userArn } = ctx.step.inputs;
  const acquiredAt = new Date().toISOString();
  const record = await userRecord(iamClientsFor(ctx), userName);
  const artifact = await ctx.putArtifact(
    {
      name: `user-${userName}.json`,
      type: 'iam-user',
      source: { arn: userArn, account: accountOf(userArn) },
      acquiredAt,
      method: {
        api: 'iam:GetUser, ListAttachedUserPolicies, GetPolicy, GetPolicyVersion, ListUserPolicies, GetUserPolicy, ListGroupsForUser, ListAccessKeys, GetAccessKeyLastUsed, ListMFADevices',
        consistency: 'successive reads, not one atomic view; documents URL-decoded',
      },
      contentType: 'application/json',
    },
    JSON.stringify(record, null, 2),
  );
  return { outputs: { artifact: artifact.id } };
}
