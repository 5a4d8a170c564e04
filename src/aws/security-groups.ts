/**
 * The EC2 security-group calls behind src/aws/isolation-group.ts, shared by every provider that
 * isolates something in a VPC (EC2 instances, RDS databases), so the isolation groups are found
 * and built by one piece of code.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupEgressCommand,
  type EC2Client,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import type { SecurityGroupApi, SgDescription, SgRule } from './isolation-group.js';

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
      const res = await ec2.send(
        new DescribeSecurityGroupsCommand({
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
      const res = await ec2.send(
        new CreateSecurityGroupCommand({
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
      const res = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
      return describe(res.SecurityGroups![0]!);
    },
    async authorizeIngress(groupId, rules) {
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: toPermissions(rules) }),
      );
    },
    async authorizeEgress(groupId, rules) {
      await ec2.send(
        new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: toPermissions(rules) }),
      );
    },
    async revokeEgress(groupId, rules) {
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: toPermissions(rules) }));
    },
  };
}
