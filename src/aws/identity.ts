/**
 * Caller identity (recorded as the operator) and --assume-role credentials. The only file in src/
 * that imports an AWS SDK, since every AWS provider and the S3 store share it.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import type { AwsClientConfig } from './config.js';
import { guardAwsClient } from '../core/guard.js';

export type { STSClient };

declare module '../core/types.js' {
  interface Clients {
    /** The STS client that names the caller (recorded as the operator). */
    'aws:sts'?: STSClient;
  }
}

/** Seconds an assumed-role session lasts; a capture that runs longer refreshes it. */
export const ASSUMED_ROLE_SESSION_SECONDS = 3600;

/** The ARN of whoever the AWS credentials belong to, or undefined with the reason. */
export async function callerIdentity(
  config: AwsClientConfig,
  injected?: STSClient,
): Promise<{ arn?: string; account?: string; error?: string }> {
  const client = injected ?? guardAwsClient(new STSClient(config as STSClientConfig));
  try {
    const out = await client.send(new GetCallerIdentityCommand({}));
    return { ...(out.Arn ? { arn: out.Arn } : {}), ...(out.Account ? { account: out.Account } : {}) };
  } catch (error) {
    return { error: (error as Error).name || 'unknown error' };
  }
}

/** A credentials provider that assumes `roleArn`, refreshing before expiry. */
export function assumeRoleCredentials(config: AwsClientConfig, roleArn: string, incident: string) {
  const client = guardAwsClient(new STSClient(config as STSClientConfig));
  let current: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date } | undefined;
  return async () => {
    if (current?.expiration && current.expiration.getTime() - Date.now() > 60_000) return current;
    const out = await client.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: `holdfast-${incident}`.slice(0, 64),
        DurationSeconds: ASSUMED_ROLE_SESSION_SECONDS,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${roleArn} returned no credentials`);
    current = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
    return current;
  };
}
