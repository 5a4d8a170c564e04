/** Read-only, batched discovery: one DescribeInstances for every id, then batched ENI/volume/ASG/ELB reads. */
import { awsClientConfig, resolveRegion } from '../../src/aws/config.js';
import { callerIdentity } from '../../src/aws/client.js';
import { classifyAwsError } from '../../src/aws/errors.js';
import { BadInputError, type InputProblem } from '../../src/core/errors.js';
import type { ProviderContext } from '../../src/core/types.js';
import {
  autoScalingMembership,
  autoScalingTargetGroups,
  describeEnisOf,
  describeInstances,
  describeVolumesOf,
  targetRegistrations,
  type Filter,
} from './client.js';
import { ec2ClientsFor } from './context.js';
import { discoverMemory } from './discover-memory.js';
import type { Ec2Facts, Ec2Params, InstanceFacts } from './facts.js';

/** States in which an instance still holds evidence worth preserving. */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

/** The DescribeInstances filters for `--instance-tag key=value`: live instances with the tag. */
export function instanceTagFilters(tag: string): Filter[] {
  const eq = tag.indexOf('=');
  return [
    { Name: `tag:${tag.slice(0, eq)}`, Values: [tag.slice(eq + 1)] },
    { Name: 'instance-state-name', Values: LIVE_STATES },
  ];
}

/** Groups holdfast names per incident: `holdfast-<role>-<incident>-<vpc>` (src/aws/isolation-group.ts). */
const HOLDFAST_GROUP_NAME = /^holdfast-(isolation|convert)-([A-Za-z][A-Za-z0-9-]*)-(vpc-[0-9a-f]+)$/;

/** Another incident whose isolation (or convert) group is on these interfaces now, with what shows it. */
function heldByOther(
  incident: string,
  enis: readonly {
    NetworkInterfaceId?: string | undefined;
    Groups?: { GroupId?: string | undefined; GroupName?: string | undefined }[] | undefined;
  }[],
): InstanceFacts['heldBy'] {
  const evidence = new Map<string, string[]>();
  for (const e of enis)
    for (const g of e.Groups ?? []) {
      const other = HOLDFAST_GROUP_NAME.exec(g.GroupName ?? '')?.[2];
      if (!other || other === incident) continue;
      const list = evidence.get(other) ?? [];
      list.push(`${e.NetworkInterfaceId} is on its ${g.GroupName?.split('-')[1]} group ${g.GroupId}`);
      evidence.set(other, list);
    }
  const [first] = [...evidence].sort(([a], [b]) => a.localeCompare(b));
  return first ? { incident: first[0], evidence: first[1] } : undefined;
}

/** The holdfast:* tags on each resource that has any: what a tag step finds before it writes. */
function holdfastTagsOf(
  resources: readonly (readonly [string, { Key?: string | undefined; Value?: string | undefined }[] | undefined])[],
): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [id, tags] of resources) {
    const ours = (tags ?? []).filter((t) => t.Key?.startsWith('holdfast:'));
    if (ours.length) out[id] = Object.fromEntries(ours.map((t) => [t.Key!, t.Value ?? '']));
  }
  return out;
}

/** Describe the targeted instances; unknown ids and tags matching nothing are BadInput. */
export async function discoverEc2(params: Ec2Params, ctx: ProviderContext): Promise<Ec2Facts> {
  const c = ec2ClientsFor(ctx);
  const byId = new Map<string, Awaited<ReturnType<typeof describeInstances>>[number]>();
  const problems: InputProblem[] = [];
  const region = resolveRegion(ctx.kase.region, ctx.env);
  if (params.instances.length) {
    let missing: string[];
    try {
      for (const i of await describeInstances(c, { ids: params.instances })) byId.set(i.InstanceId!, i);
      missing = params.instances.filter((id) => !byId.has(id));
    } catch (error) {
      // The ids are the call's only input: an id that does not exist or is no id is the input's fault.
      const { kind, message } = classifyAwsError(error);
      if (kind === 'invalid') throw new BadInputError({ field: 'targets.ec2.instances', message }, { cause: error });
      if (kind !== 'not-found') throw error;
      // AWS names the ids it did not find in its message; all of them when it names none of ours.
      const named = params.instances.filter((id) => message.includes(id));
      missing = named.length ? named : params.instances;
    }
    if (missing.length) {
      // Where it looked, so a responder sees a wrong region or account at once. Other regions are not
      // searched: one DescribeInstances per region (17+) is no cheap look in the middle of an incident.
      const who = await callerIdentity(awsClientConfig(ctx), ctx.clients['aws:sts']);
      const account = who.account ? `account ${who.account}` : "the credentials' account";
      for (const id of missing)
        problems.push({
          field: `targets.ec2.instances[${params.instances.indexOf(id)}]`,
          message: `${id}: no such instance in region ${region} of ${account} (searched there only); if it runs elsewhere, give its \`region\` or credentials for its account (\`assumeRole\`)`,
          continues: true,
        });
    }
  }
  for (const [i, tag] of params.instanceTags.entries()) {
    const found = await describeInstances(c, { filters: instanceTagFilters(tag) });
    if (!found.length)
      problems.push({
        field: `targets.ec2.instanceTags[${i}]`,
        message: `${tag}: no running or stopped instance has this tag`,
        continues: true,
      });
    for (const inst of found) byId.set(inst.InstanceId!, inst);
  }
  for (const inst of byId.values()) {
    if (LIVE_STATES.includes(inst.State?.Name ?? '')) continue;
    const i = params.instances.indexOf(inst.InstanceId!);
    problems.push({
      field: i < 0 ? 'targets.ec2.instances' : `targets.ec2.instances[${i}]`,
      message: `${inst.InstanceId} is ${inst.State?.Name}; nothing left to preserve`,
      continues: true,
    });
  }
  if (problems.length) throw new BadInputError(problems);

  const ids = [...byId.keys()].sort();
  const [enis, volumes, membership] = await Promise.all([
    describeEnisOf(c, ids),
    describeVolumesOf(c, ids),
    autoScalingMembership(c, ids),
  ]);
  const groupTargets = await autoScalingTargetGroups(c, [...new Set(membership.map((m) => m.group))]);
  const vpcIds = [...new Set([...byId.values()].map((i) => i.VpcId!).filter(Boolean))];
  const registrations = await targetRegistrations(c, vpcIds, ids);

  const instances: InstanceFacts[] = ids.map((id) => {
    const i = byId.get(id)!;
    const asg = membership.find((m) => m.instanceId === id);
    const own = enis.filter((e) => e.Attachment?.InstanceId === id);
    const held = heldByOther(ctx.incident, own);
    const holdfastTags = holdfastTagsOf([
      [id, i.Tags],
      ...own.map((e) => [e.NetworkInterfaceId!, e.TagSet] as const),
      ...volumes
        .filter((v) => v.Attachments?.some((a) => a.InstanceId === id))
        .map((v) => [v.VolumeId!, v.Tags] as const),
    ]);
    return {
      instanceId: id,
      state: i.State?.Name ?? 'unknown',
      spot: i.InstanceLifecycle === 'spot',
      rootDeviceType: i.RootDeviceType ?? 'ebs',
      vpcId: i.VpcId ?? '',
      availabilityZone: i.Placement?.AvailabilityZone ?? '',
      ...(i.OwnerId ? { accountId: i.OwnerId } : {}),
      ...(i.IamInstanceProfile?.Arn ? { instanceProfile: i.IamInstanceProfile.Arn } : {}),
      tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
      enis: enis
        .filter((e) => e.Attachment?.InstanceId === id)
        .map((e) => ({
          id: e.NetworkInterfaceId!,
          vpcId: e.VpcId ?? i.VpcId ?? '',
          subnetId: e.SubnetId ?? '',
          groups: (e.Groups ?? []).map((g) => g.GroupId!).sort(),
          requesterManaged: Boolean(e.RequesterManaged),
          deviceIndex: e.Attachment?.DeviceIndex ?? 0,
        }))
        .sort((a, b) => a.deviceIndex - b.deviceIndex),
      volumes: volumes
        .filter((v) => v.Attachments?.some((a) => a.InstanceId === id))
        .map((v) => {
          const a = v.Attachments!.find((x) => x.InstanceId === id)!;
          // The instance's mapping is the authority (moto leaves DeleteOnTermination out of DescribeVolumes).
          const mapped = i.BlockDeviceMappings?.find((m) => m.Ebs?.VolumeId === v.VolumeId)?.Ebs?.DeleteOnTermination;
          return {
            id: v.VolumeId!,
            device: a.Device ?? '',
            deleteOnTermination: Boolean(mapped ?? a.DeleteOnTermination),
            sizeGiB: v.Size ?? 0,
            encrypted: Boolean(v.Encrypted),
            ...(v.KmsKeyId ? { kmsKeyId: v.KmsKeyId } : {}),
          };
        })
        .sort((a, b) => a.device.localeCompare(b.device)),
      ...(asg
        ? {
            autoScaling: {
              group: asg.group,
              lifecycleState: asg.lifecycleState,
              targetGroupArns: groupTargets[asg.group] ?? [],
            },
          }
        : {}),
      registrations: registrations
        .filter((r) => r.instanceId === id)
        .map((r) => ({ targetGroupArn: r.targetGroupArn, ...(r.port ? { port: r.port } : {}) })),
      ...(Object.keys(holdfastTags).length ? { holdfastTags } : {}),
      ...(held ? { heldBy: held } : {}),
    };
  });
  // One incident per target: another incident's containment in place is refused unless joined.
  for (const inst of instances) {
    const held = inst.heldBy;
    if (!held || held.incident === ctx.kase.join) continue;
    const i = params.instances.indexOf(inst.instanceId);
    problems.push({
      field: i < 0 ? 'targets.ec2.instanceTags' : `targets.ec2.instances[${i}]`,
      message: `${inst.instanceId} is held by open incident ${held.incident} (${held.evidence.join('; ')}): capture it under ${held.incident}, or join it (\`join\` ${held.incident}) to record the hold without changing anything it did`,
      continues: true,
    });
  }
  if (problems.length) throw new BadInputError(problems);
  const memory =
    params.memory || ctx.kase.severity === 'high'
      ? await discoverMemory(
          params,
          ctx,
          c,
          ids.map((id) => ({
            instanceId: id,
            instanceType: byId.get(id)!.InstanceType ?? '',
            platform: byId.get(id)!.Platform,
          })),
        )
      : undefined;
  return { region: resolveRegion(ctx.kase.region, ctx.env), params, instances, ...(memory ? { memory } : {}) };
}
