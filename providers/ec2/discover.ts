/** Read-only, batched discovery: one DescribeInstances for every id, then batched ENI/volume/ASG/ELB reads. */
import { resolveRegion } from '../../src/aws/config.js';
import { BadInputError } from '../../src/core/errors.js';
import type { ProviderContext } from '../../src/core/types.js';
import {
  autoScalingMembership,
  autoScalingTargetGroups,
  describeEnisOf,
  describeInstances,
  describeVolumesOf,
  targetRegistrations,
} from './client.js';
import { ec2ClientsFor } from './context.js';
import type { Ec2Facts, Ec2Params, InstanceFacts } from './facts.js';

/** States in which an instance still holds evidence worth preserving. */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

/** Describe the targeted instances; unknown ids and tags matching nothing are BadInput. */
export async function discoverEc2(params: Ec2Params, ctx: ProviderContext): Promise<Ec2Facts> {
  const c = ec2ClientsFor(ctx);
  const byId = new Map<string, Awaited<ReturnType<typeof describeInstances>>[number]>();
  if (params.instances.length) {
    try {
      for (const i of await describeInstances(c, { ids: params.instances })) byId.set(i.InstanceId!, i);
    } catch (error) {
      const name = (error as Error).name ?? '';
      if (/InvalidInstanceID/.test(name))
        throw new BadInputError(`--instance: ${(error as Error).message}`, { cause: error });
      throw error;
    }
    const missing = params.instances.filter((id) => !byId.has(id));
    if (missing.length)
      throw new BadInputError(
        `--instance: no such instance in ${resolveRegion(ctx.kase.region, ctx.env)}: ${missing.join(', ')}`,
      );
  }
  for (const tag of params.instanceTags) {
    const eq = tag.indexOf('=');
    const found = await describeInstances(c, {
      filters: [
        { Name: `tag:${tag.slice(0, eq)}`, Values: [tag.slice(eq + 1)] },
        { Name: 'instance-state-name', Values: LIVE_STATES },
      ],
    });
    if (!found.length) throw new BadInputError(`--instance-tag ${tag}: no running or stopped instance has this tag`);
    for (const i of found) byId.set(i.InstanceId!, i);
  }
  const gone = [...byId.values()].filter((i) => !LIVE_STATES.includes(i.State?.Name ?? ''));
  if (gone.length)
    throw new BadInputError(
      `--instance: ${gone.map((i) => `${i.InstanceId} is ${i.State?.Name}`).join(', ')}; nothing left to preserve`,
    );

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
    };
  });
  return { region: resolveRegion(ctx.kase.region, ctx.env), params, instances };
}
