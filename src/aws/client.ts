/**
 * The shared AWS kit's only SDK file, as a provider's client.ts is for its provider: the caller's
 * identity (recorded as the operator) and --assume-role credentials over STS, and the EC2
 * security-group calls behind src/aws/isolation-group.ts, shared by every provider that isolates
 * something in a VPC (EC2 instances, RDS databases), so the isolation groups are found and built by
 * one piece of code. Every client made here is guarded.
 */
import type { STSClient, STSClientConfig } from '@aws-sdk/client-sts';
import type { EC2Client, IpPermission, SecurityGroup } from '@aws-sdk/client-ec2';
import type { AwsClientConfig } from './config.js';
import type { SecurityGroupApi, SgDescription, SgRule } from './isolation-group.js';
import { guardAwsClient } from './guard-client.js';

/**
 * Each SDK is loaded on its first call, so a file shared this widely costs only what a run uses: the
 * STS half serves every AWS capture, the security-group half only EC2 and RDS (which have loaded
 * EC2's large SDK by then), and verify's snapshot checks neither.
 */
const stsSdk = () => import('@aws-sdk/client-sts');
const ec2Sdk = () => import('@aws-sdk/client-ec2');

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
  const sdk = await stsSdk();
  const client = injected ?? guardAwsClient(new sdk.STSClient(config as STSClientConfig));
  try {
    const out = await client.send(new sdk.GetCallerIdentityCommand({}));
    return { ...(out.Arn ? { arn: out.Arn } : {}), ...(out.Account ? { account: out.Account } : {}) };
  } catch (error) {
    return { error: (error as Error).name || 'unknown error' };
  }
}

/** A credentials provider that assumes `roleArn`, refreshing before expiry. */
export function assumeRoleCredentials(config: AwsClientConfig, roleArn: string, incident: string) {
  let client: STSClient | undefined;
  let current: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date } | undefined;
  return async () => {
    if (current?.expiration && current.expiration.getTime() - Date.now() > 60_000) return current;
    const sdk = await stsSdk();
    client ??= guardAwsClient(new sdk.STSClient(config as STSClientConfig));
    const out = await client.send(
      new sdk.AssumeRoleCommand({
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

type Peer = Pick<SgRule, 'cidrIpv4' | 'cidrIpv6' | 'groupId' | 'prefixListId'>;

function toRule(p: IpPermission, peer: Peer): SgRule {
  return {
    protocol: p.IpProtocol ?? '-1',
    ...(p.FromPort !== undefined && p.IpProtocol !== '-1' ? { fromPort: p.FromPort } : {}),
    ...(p.ToPort !== undefined && p.IpProtocol !== '-1' ? { toPort: p.ToPort } : {}),
    ...peer,
  };
}

/** One rule per peer, including group and prefix-list peers, so a check sees every way in or out. */
function flatten(perms: IpPermission[] | undefined): SgRule[] {
  return (perms ?? []).flatMap((p) => [
    ...(p.IpRanges ?? []).map((r) => toRule(p, { cidrIpv4: r.CidrIp! })),
    ...(p.Ipv6Ranges ?? []).map((r) => toRule(p, { cidrIpv6: r.CidrIpv6! })),
    ...(p.UserIdGroupPairs ?? []).map((r) => toRule(p, { groupId: r.GroupId! })),
    ...(p.PrefixListIds ?? []).map((r) => toRule(p, { prefixListId: r.PrefixListId! })),
  ]);
}

function toPermissions(rules: SgRule[]): IpPermission[] {
  return rules.map((r) => ({
    IpProtocol: r.protocol,
    ...(r.fromPort !== undefined ? { FromPort: r.fromPort } : {}),
    ...(r.toPort !== undefined ? { ToPort: r.toPort } : {}),
    ...(r.cidrIpv4 ? { IpRanges: [{ CidrIp: r.cidrIpv4, Description: 'holdfast forensic access' }] } : {}),
    ...(r.cidrIpv6 ? { Ipv6Ranges: [{ CidrIpv6: r.cidrIpv6 }] } : {}),
    ...(r.groupId ? { UserIdGroupPairs: [{ GroupId: r.groupId }] } : {}),
    ...(r.prefixListId ? { PrefixListIds: [{ PrefixListId: r.prefixListId }] } : {}),
  }));
}

/** Adapt an EC2 client to the SDK-free isolation-group logic. */
export function ec2SecurityGroupApi(ec2: EC2Client): SecurityGroupApi {
  const describe = (g: SecurityGroup): SgDescription => ({
    groupId: g.GroupId!,
    name: g.GroupName ?? '',
    vpcId: g.VpcId ?? '',
    ingress: flatten(g.IpPermissions),
    egress: flatten(g.IpPermissionsEgress),
    tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
  });
  return {
    async findGroup(vpcId, name) {
      const sdk = await ec2Sdk();
      const res = await ec2.send(
        new sdk.DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'vpc-id', Values: [vpcId] },
            { Name: 'group-name', Values: [name] },
          ],
        }),
      );
      const g = res.SecurityGroups?.[0];
      return g ? describe(g) : undefined;
    },
    async createGroup(vpcId, name, description, tags) {
      const sdk = await ec2Sdk();
      const res = await ec2.send(
        new sdk.CreateSecurityGroupCommand({
          VpcId: vpcId,
          GroupName: name,
          Description: description,
          TagSpecifications: [
            { ResourceType: 'security-group', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
          ],
        }),
      );
      return res.GroupId!;
    },
    async describeGroup(groupId) {
      const sdk = await ec2Sdk();
      const res = await ec2.send(new sdk.DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
      return describe(res.SecurityGroups![0]!);
    },
    async authorizeIngress(groupId, rules) {
      const sdk = await ec2Sdk();
      await ec2.send(
        new sdk.AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: toPermissions(rules) }),
      );
    },
    async authorizeEgress(groupId, rules) {
      const sdk = await ec2Sdk();
      await ec2.send(
        new sdk.AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: toPermissions(rules) }),
      );
    },
    async revokeEgress(groupId, rules) {
      const sdk = await ec2Sdk();
      await ec2.send(
        new sdk.RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: toPermissions(rules) }),
      );
    },
  };
}
