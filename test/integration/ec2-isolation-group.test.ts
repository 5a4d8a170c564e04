/** The shared isolation groups against moto: exact rules, found again on re-run, race-safe, tamper-refusing. */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { testIncident } from '../support/aws.js';
import { ec2SecurityGroupApi } from '../../src/aws/client.js';
import { guardAwsClient } from '../../src/aws/guard-client.js';
import { ensureIsolationGroups, isolationGroupName, type SecurityGroupApi } from '../../src/aws/isolation-group.js';
import type { JsonObject } from '../../src/core/types.js';

const FORENSIC = ['198.51.100.7/32', '2001:db8:1::/64'];
let ec2: EC2Client;
let api: SecurityGroupApi;

beforeAll(() => {
  ec2 = guardAwsClient(
    new EC2Client({
      endpoint: inject('motoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    }),
  );
  api = ec2SecurityGroupApi(ec2);
});

/** A dual-stack VPC of its own: moto gives new groups there both 0.0.0.0/0 and ::/0 egress. */
async function dualStackVpc(): Promise<string> {
  return (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16', AmazonProvidedIpv6CidrBlock: true }))).Vpc!
    .VpcId!;
}

async function group(id: string): Promise<SecurityGroup> {
  return (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups![0]!;
}

async function incidentGroups(incident: string): Promise<SecurityGroup[]> {
  return (
    (
      await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] }),
      )
    ).SecurityGroups ?? []
  );
}

const peers = (perms: SecurityGroup['IpPermissions']) =>
  (perms ?? [])
    .flatMap((p) => [
      ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol} ${r.CidrIp}`),
      ...(p.Ipv6Ranges ?? []).map((r) => `${p.IpProtocol} ${r.CidrIpv6}`),
      ...(p.UserIdGroupPairs ?? []).map((r) => `${p.IpProtocol} ${r.GroupId}`),
    ])
    .sort();

describe('ensureIsolationGroups (moto)', () => {
  it('creates a convert group open both ways and an isolation group with only forensic ingress, tagged and named', async () => {
    const vpcId = await dualStackVpc();
    const incident = testIncident('SG');
    const order: string[] = [];
    const logged: SecurityGroupApi = {
      ...api,
      createGroup: async (...args) => (order.push(`create ${args[1]}`), api.createGroup(...args)),
    };
    const intents: JsonObject[] = [];
    const groups = await ensureIsolationGroups(logged, {
      incident,
      vpcId,
      forensicCidrs: FORENSIC,
      recordIntent: (w) => (intents.push(w), order.push(`intent ${w.name}`)),
    });

    expect(groups.created.sort()).toEqual([groups.convertGroupId, groups.isolationGroupId].sort());
    // Each create is journaled before it is sent, so a crash in between is adopted by name.
    const names = (['convert', 'isolation'] as const).map((r) => isolationGroupName(incident, r, vpcId));
    expect(order).toEqual(names.flatMap((n) => [`intent ${n}`, `create ${n}`]));

    const convert = await group(groups.convertGroupId);
    expect(peers(convert.IpPermissions)).toEqual(['-1 0.0.0.0/0', '-1 ::/0']);
    expect(peers(convert.IpPermissionsEgress)).toEqual(['-1 0.0.0.0/0', '-1 ::/0']);

    const isolation = await group(groups.isolationGroupId);
    expect(isolation.GroupName).toBe(names[1]);
    expect(peers(isolation.IpPermissions)).toEqual(['-1 198.51.100.7/32', '-1 2001:db8:1::/64']);
    expect(isolation.IpPermissionsEgress ?? []).toEqual([]);
    expect(isolation.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'holdfast:incident', Value: incident },
        { Key: 'holdfast:role', Value: 'isolation' },
        { Key: 'holdfast:vpc', Value: vpcId },
      ]),
    );
  });

  it('admits forensic hosts only on --forensic-ports when given', async () => {
    const vpcId = await dualStackVpc();
    const groups = await ensureIsolationGroups(api, {
      incident: testIncident('SGP'),
      vpcId,
      forensicCidrs: ['198.51.100.7/32'],
      forensicPorts: [
        { from: 22, to: 22 },
        { from: 4000, to: 4100 },
      ],
      recordIntent: () => {},
    });
    const rules = ((await group(groups.isolationGroupId)).IpPermissions ?? [])
      .map((p) => `${p.IpProtocol} ${p.FromPort}-${p.ToPort} ${p.IpRanges?.[0]?.CidrIp}`)
      .sort();
    expect(rules).toEqual(['tcp 22-22 198.51.100.7/32', 'tcp 4000-4100 198.51.100.7/32']);
  });

  it('a re-run, and parallel callers, find the same two groups and create nothing', async () => {
    const vpcId = await dualStackVpc();
    const incident = testIncident('SGR');
    const input = { incident, vpcId, forensicCidrs: FORENSIC, recordIntent: () => {} };
    const parallel = await Promise.all([1, 2, 3].map(() => ensureIsolationGroups(api, input)));
    expect(new Set(parallel.map((g) => `${g.convertGroupId} ${g.isolationGroupId}`)).size).toBe(1);
    expect(await incidentGroups(incident)).toHaveLength(2);

    const again = await ensureIsolationGroups(api, input);
    expect(again).toEqual({
      convertGroupId: parallel[0]!.convertGroupId,
      isolationGroupId: parallel[0]!.isolationGroupId,
      created: [],
    });
    expect(await incidentGroups(incident)).toHaveLength(2);
  });

  it('revokes egress someone added to a group reference, and refuses an isolation group with foreign ingress', async () => {
    const vpcId = await dualStackVpc();
    const incident = testIncident('SGT');
    const input = { incident, vpcId, forensicCidrs: FORENSIC, recordIntent: () => {} };
    const { isolationGroupId } = await ensureIsolationGroups(api, input);
    const other = (
      await ec2.send(
        new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: `other-${incident}`, Description: 'another tier' }),
      )
    ).GroupId!;

    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: isolationGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: other }] }],
      }),
    );
    await ensureIsolationGroups(api, input);
    expect((await group(isolationGroupId)).IpPermissionsEgress ?? []).toEqual([]);

    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: isolationGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: other }] }],
      }),
    );
    await expect(ensureIsolationGroups(api, input)).rejects.toThrow(
      new RegExp(`unexpected ingress: tcp 22-22 from ${other}\\); refusing to use it`),
    );
  });

  it('refuses a group that carries our name but not our tags', async () => {
    const vpcId = await dualStackVpc();
    const incident = testIncident('SGN');
    await ec2.send(
      new CreateSecurityGroupCommand({
        VpcId: vpcId,
        GroupName: isolationGroupName(incident, 'convert', vpcId),
        Description: 'squatter',
      }),
    );
    await expect(
      ensureIsolationGroups(api, { incident, vpcId, forensicCidrs: FORENSIC, recordIntent: () => {} }),
    ).rejects.toThrow(/is not tagged holdfast:incident=.*refusing to use it/);
    expect(await incidentGroups(incident)).toEqual([]);
  });
});
