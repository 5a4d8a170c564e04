/**
 * The only file of the EC2 provider that imports AWS SDKs (EC2, Auto Scaling, ELBv2). Every client
 * is guarded; a bundle can be injected through `ctx.clients.ec2`. Functions take and return plain data.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  type AutoScalingClientConfig,
} from '@aws-sdk/client-auto-scaling';
import {
  CopySnapshotCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeLockedSnapshotsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  GetConsoleOutputCommand,
  GetConsoleScreenshotCommand,
  LockSnapshotCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySnapshotAttributeCommand,
  type EC2ClientConfig,
  type Filter,
  type Instance,
  type NetworkInterface,
  type Snapshot,
  type Volume,
} from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2ClientConfig,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  EBSClient,
  GetSnapshotBlockCommand,
  ListSnapshotBlocksCommand,
  type EBSClientConfig,
} from '@aws-sdk/client-ebs';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  SSMClient,
  type SSMClientConfig,
} from '@aws-sdk/client-ssm';
import type { AwsClientConfig } from '../../src/aws/config.js';
import { guardAwsClient } from '../../src/aws/guard-client.js';
import { classifyAwsError, isNotFound } from '../../src/aws/errors.js';
import { uncheckableDetail } from './ebs-direct-failure.js';
import { pacingMiddleware, type RateLimiter } from '../../src/aws/rate-limit.js';
import { ec2SecurityGroupApi } from '../../src/aws/client.js';
import type { SecurityGroupApi } from '../../src/aws/isolation-group.js';

export type { Filter, Instance, NetworkInterface, Snapshot, Volume };

/** The guarded SDK clients the EC2 provider uses. */
declare module '../../src/core/types.js' {
  interface Clients {
    /** The EC2 provider's bundle, as `createEc2Clients` builds it (injected: used as given). */
    ec2?: Ec2Clients;
  }
}

export interface Ec2Clients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  elb: ElasticLoadBalancingV2Client;
  /** EBS direct APIs: read a snapshot's blocks (for --hash-snapshots and verify --hash-snapshots). */
  ebs: EBSClient;
  /** SSM Run Command: the memory step (--memory). */
  ssm: SSMClient;
}

/**
 * Guarded clients for one region. With a rate limiter, every EC2 attempt waits for its API's token
 * and the SDK retries throttles adaptively (it slows its own sending rate when AWS pushes back).
 */
export function createEc2Clients(config: AwsClientConfig, limiter?: RateLimiter): Ec2Clients {
  const ec2 = new EC2Client({ ...(config as EC2ClientConfig), ...(limiter ? { retryMode: 'adaptive' } : {}) });
  if (limiter)
    ec2.middlewareStack.add(pacingMiddleware(limiter) as never, {
      step: 'finalizeRequest',
      priority: 'low',
      name: 'holdfastPacing',
    });
  return {
    ec2: guardAwsClient(ec2),
    autoscaling: guardAwsClient(new AutoScalingClient(config as AutoScalingClientConfig)),
    elb: guardAwsClient(new ElasticLoadBalancingV2Client(config as ElasticLoadBalancingV2ClientConfig)),
    ebs: guardAwsClient(new EBSClient(config as EBSClientConfig)),
    ssm: guardAwsClient(new SSMClient(config as SSMClientConfig)),
  };
}

/** Values per filter in one Describe call (EC2 accepts up to 200). */
export const MAX_FILTER_VALUES = 200;
/** Instance ids per DescribeAutoScalingInstances call. */
export const MAX_ASG_INSTANCE_IDS = 50;

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** An instance with the account of its reservation. */
export type OwnedInstance = Instance & { OwnerId?: string };

/** One paginated DescribeInstances for ids and/or filters. */
export async function describeInstances(
  c: Ec2Clients,
  query: { ids?: string[]; filters?: Filter[] },
): Promise<OwnedInstance[]> {
  const out: OwnedInstance[] = [];
  let NextToken: string | undefined;
  do {
    const res = await c.ec2.send(
      new DescribeInstancesCommand({
        ...(query.ids?.length ? { InstanceIds: query.ids } : {}),
        ...(query.filters ? { Filters: query.filters } : {}),
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    for (const r of res.Reservations ?? [])
      out.push(...(r.Instances ?? []).map((i) => ({ ...i, ...(r.OwnerId ? { OwnerId: r.OwnerId } : {}) })));
    NextToken = res.NextToken;
  } while (NextToken);
  return out;
}

/** Every interface attached to the instances, in batches of MAX_FILTER_VALUES. */
export async function describeEnisOf(c: Ec2Clients, instanceIds: string[]): Promise<NetworkInterface[]> {
  const out: NetworkInterface[] = [];
  for (const batch of chunks(instanceIds, MAX_FILTER_VALUES)) {
    let NextToken: string | undefined;
    do {
      const res = await c.ec2.send(
        new DescribeNetworkInterfacesCommand({
          Filters: [{ Name: 'attachment.instance-id', Values: batch }],
          ...(NextToken ? { NextToken } : {}),
        }),
      );
      out.push(...(res.NetworkInterfaces ?? []));
      NextToken = res.NextToken;
    } while (NextToken);
  }
  return out;
}

/** The groups an interface is on now (undefined when it no longer exists). */
export async function eniGroupsNow(c: Ec2Clients, NetworkInterfaceId: string): Promise<string[] | undefined> {
  try {
    const res = await c.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [NetworkInterfaceId] }));
    return res.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId!);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Every volume attached to the instances, in batches of MAX_FILTER_VALUES. */
export async function describeVolumesOf(c: Ec2Clients, instanceIds: string[]): Promise<Volume[]> {
  const out: Volume[] = [];
  for (const batch of chunks(instanceIds, MAX_FILTER_VALUES)) {
    let NextToken: string | undefined;
    do {
      const res = await c.ec2.send(
        new DescribeVolumesCommand({
          Filters: [{ Name: 'attachment.instance-id', Values: batch }],
          ...(NextToken ? { NextToken } : {}),
        }),
      );
      out.push(...(res.Volumes ?? []));
      NextToken = res.NextToken;
    } while (NextToken);
  }
  return out;
}

/** The instance attributes holdfast reads and sets. */
export type InstanceAttributeName = 'disableApiTermination' | 'disableApiStop' | 'instanceInitiatedShutdownBehavior';

/** One instance attribute's current value. */
export async function instanceAttribute(
  c: Ec2Clients,
  InstanceId: string,
  Attribute: InstanceAttributeName,
): Promise<string | boolean | undefined> {
  const res = await c.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId, Attribute }));
  if (Attribute === 'instanceInitiatedShutdownBehavior') return res.InstanceInitiatedShutdownBehavior?.Value;
  if (Attribute === 'disableApiStop') return res.DisableApiStop?.Value;
  return res.DisableApiTermination?.Value;
}

/** One attribute per call (ModifyInstanceAttribute accepts only one). */
export async function setInstanceAttribute(
  c: Ec2Clients,
  InstanceId: string,
  attribute: InstanceAttributeName,
  value: string | boolean,
  DryRun = false,
): Promise<void> {
  // The Attribute/Value form: moto wipes the instance's groups for the structured shutdown form.
  const input =
    attribute === 'instanceInitiatedShutdownBehavior'
      ? { InstanceId, Attribute: attribute, Value: String(value), DryRun }
      : attribute === 'disableApiStop'
        ? { InstanceId, DisableApiStop: { Value: Boolean(value) }, DryRun }
        : { InstanceId, DisableApiTermination: { Value: Boolean(value) }, DryRun };
  await c.ec2.send(new ModifyInstanceAttributeCommand(input));
}

/** Keep (or, on release, drop) one volume when the instance terminates. */
export async function setDeleteOnTermination(
  c: Ec2Clients,
  InstanceId: string,
  DeviceName: string,
  value: boolean,
  DryRun = false,
): Promise<void> {
  await c.ec2.send(
    new ModifyInstanceAttributeCommand({
      InstanceId,
      BlockDeviceMappings: [{ DeviceName, Ebs: { DeleteOnTermination: value } }],
      DryRun,
    }),
  );
}

/** Tag resources (instances, volumes, ENIs, snapshots). */
export async function createTags(
  c: Ec2Clients,
  Resources: string[],
  tags: Record<string, string>,
  DryRun = false,
): Promise<void> {
  await c.ec2.send(
    new CreateTagsCommand({ Resources, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), DryRun }),
  );
}

/** The latest console output, decoded. */
export async function consoleOutput(
  c: Ec2Clients,
  InstanceId: string,
): Promise<{ output: string; timestamp?: string }> {
  const res = await c.ec2.send(new GetConsoleOutputCommand({ InstanceId, Latest: true }));
  return {
    output: res.Output ? Buffer.from(res.Output, 'base64').toString('utf8') : '',
    ...(res.Timestamp ? { timestamp: res.Timestamp.toISOString() } : {}),
  };
}

/**
 * A JPEG of the instance's screen as it is now. `WakeUp: false`: no keystroke is sent to a suspect host
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetConsoleScreenshot.html).
 */
export async function consoleScreenshot(c: Ec2Clients, InstanceId: string, DryRun = false): Promise<Buffer> {
  const res = await c.ec2.send(new GetConsoleScreenshotCommand({ InstanceId, WakeUp: false, DryRun }));
  return Buffer.from(res.ImageData ?? '', 'base64');
}

/**
 * Crash-consistent snapshots of every volume of an instance, tagged at creation. Volume tags are not
 * copied (CopyTagsFromSource): the volumes already carry our keys with other values, and the volume's
 * tags are in the describe artifact.
 */
export async function createInstanceSnapshots(
  c: Ec2Clients,
  InstanceId: string,
  description: string,
  tags: Record<string, string>,
  DryRun = false,
): Promise<Snapshot[]> {
  const res = await c.ec2.send(
    new CreateSnapshotsCommand({
      InstanceSpecification: { InstanceId, ExcludeBootVolume: false },
      Description: description,
      TagSpecifications: [
        { ResourceType: 'snapshot', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
      DryRun,
    }),
  );
  return (res.Snapshots ?? []).map((s): Snapshot => ({
    SnapshotId: s.SnapshotId,
    VolumeId: s.VolumeId,
    StartTime: s.StartTime,
    State: s.State,
    VolumeSize: s.VolumeSize,
    Encrypted: s.Encrypted,
  }));
}

/** Snapshots carrying all of `tags` (owner filter by tag: moto ignores OwnerIds self). */
export async function snapshotsByTags(c: Ec2Clients, tags: Record<string, string>): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  let NextToken: string | undefined;
  do {
    const res = await c.ec2.send(
      new DescribeSnapshotsCommand({
        Filters: Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    out.push(...(res.Snapshots ?? []));
    NextToken = res.NextToken;
  } while (NextToken);
  return out;
}

/** This incident's snapshots taken by any of `stepIds` (one filtered call per batch of steps). */
export async function snapshotsOfSteps(c: Ec2Clients, incident: string, stepIds: string[]): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  let NextToken: string | undefined;
  do {
    const res = await c.ec2.send(
      new DescribeSnapshotsCommand({
        Filters: [
          { Name: 'tag:holdfast:incident', Values: [incident] },
          { Name: 'tag:holdfast:step', Values: stepIds },
        ],
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    out.push(...(res.Snapshots ?? []));
    NextToken = res.NextToken;
  } while (NextToken);
  return out;
}

/** Keep (or not) every listed volume when the instance terminates: one call for all of them. */
export async function setDeleteOnTerminationAll(
  c: Ec2Clients,
  InstanceId: string,
  devices: string[],
  value: boolean,
): Promise<void> {
  await c.ec2.send(
    new ModifyInstanceAttributeCommand({
      InstanceId,
      BlockDeviceMappings: devices.map((DeviceName) => ({ DeviceName, Ebs: { DeleteOnTermination: value } })),
    }),
  );
}

/** Snapshots by id (state and progress for settle). */
export async function describeSnapshots(c: Ec2Clients, SnapshotIds: string[]): Promise<Snapshot[]> {
  return (await c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds }))).Snapshots ?? [];
}

/** Snapshots by id, or undefined for one that no longer exists (verify checks platform-held evidence). */
export async function findSnapshot(c: Ec2Clients, SnapshotId: string): Promise<Snapshot | undefined> {
  try {
    return (await c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [SnapshotId] }))).Snapshots?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The lock a snapshot carries now, if any (DescribeSnapshots does not report locks). */
export async function snapshotLock(
  c: Ec2Clients,
  SnapshotId: string,
): Promise<{ lockState?: string; lockExpiresOn?: string } | undefined> {
  const s = (await c.ec2.send(new DescribeLockedSnapshotsCommand({ SnapshotIds: [SnapshotId] }))).Snapshots?.[0];
  return s
    ? {
        ...(s.LockState ? { lockState: s.LockState } : {}),
        ...(s.LockExpiresOn ? { lockExpiresOn: new Date(s.LockExpiresOn).toISOString() } : {}),
      }
    : undefined;
}

/** Hours of cool-off in which a compliance lock can still be changed (a mistake can be fixed). */
export const SNAPSHOT_LOCK_COOL_OFF_HOURS = 24;

/** Lock a snapshot in compliance mode with a cool-off (works on pending snapshots). */
export async function lockSnapshot(
  c: Ec2Clients,
  SnapshotId: string,
  days: number,
  DryRun = false,
): Promise<{ lockState?: string; lockExpiresOn?: string; coolOffPeriodExpiresOn?: string }> {
  const res = await c.ec2.send(
    new LockSnapshotCommand({
      SnapshotId,
      LockMode: 'compliance',
      LockDuration: days,
      CoolOffPeriod: SNAPSHOT_LOCK_COOL_OFF_HOURS,
      DryRun,
    }),
  );
  return {
    ...(res.LockState ? { lockState: res.LockState } : {}),
    ...(res.LockExpiresOn ? { lockExpiresOn: new Date(res.LockExpiresOn).toISOString() } : {}),
    ...(res.CoolOffPeriodExpiresOn
      ? { coolOffPeriodExpiresOn: new Date(res.CoolOffPeriodExpiresOn).toISOString() }
      : {}),
  };
}

/** Copy a snapshot re-encrypted under a customer key (shareable, unlike the AWS-managed key). */
export async function copySnapshot(
  c: Ec2Clients,
  SourceSnapshotId: string,
  SourceRegion: string,
  KmsKeyId: string,
  tags: Record<string, string>,
  DryRun = false,
): Promise<string> {
  const res = await c.ec2.send(
    new CopySnapshotCommand({
      SourceSnapshotId,
      SourceRegion,
      Encrypted: true,
      KmsKeyId,
      Description: `holdfast copy of ${SourceSnapshotId}`,
      ...(Object.keys(tags).length
        ? {
            TagSpecifications: [
              { ResourceType: 'snapshot' as const, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
            ],
          }
        : {}),
      DryRun,
    }),
  );
  return res.SnapshotId!;
}

/** Let another account create volumes from a snapshot. */
export async function shareSnapshot(c: Ec2Clients, SnapshotId: string, account: string, DryRun = false): Promise<void> {
  await c.ec2.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId,
      Attribute: 'createVolumePermission',
      OperationType: 'add',
      UserIds: [account],
      DryRun,
    }),
  );
}

/** Replace one interface's security groups (per ENI: ModifyInstanceAttribute touches only the primary). */
export async function setEniGroups(
  c: Ec2Clients,
  NetworkInterfaceId: string,
  Groups: string[],
  DryRun = false,
): Promise<void> {
  await c.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId, Groups, DryRun }));
}

/** Auto Scaling group and lifecycle state per instance, in batches of MAX_ASG_INSTANCE_IDS. */
export async function autoScalingMembership(
  c: Ec2Clients,
  instanceIds: string[],
): Promise<{ instanceId: string; group: string; lifecycleState: string }[]> {
  const out: { instanceId: string; group: string; lifecycleState: string }[] = [];
  for (const batch of chunks(instanceIds, MAX_ASG_INSTANCE_IDS)) {
    const res = await c.autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: batch }));
    for (const i of res.AutoScalingInstances ?? [])
      out.push({ instanceId: i.InstanceId!, group: i.AutoScalingGroupName!, lifecycleState: i.LifecycleState ?? '' });
  }
  return out;
}

/** The target groups each Auto Scaling group manages. */
export async function autoScalingTargetGroups(c: Ec2Clients, names: string[]): Promise<Record<string, string[]>> {
  if (!names.length) return {};
  const res = await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names }));
  return Object.fromEntries(
    (res.AutoScalingGroups ?? []).map((g) => [g.AutoScalingGroupName!, g.TargetGroupARNs ?? []]),
  );
}

/** Move an instance to Standby so its group neither scales it in nor replaces it. */
export async function enterStandby(c: Ec2Clients, AutoScalingGroupName: string, InstanceId: string): Promise<void> {
  // Not decrementing: the group launches a replacement, so service capacity is kept.
  await c.autoscaling.send(
    new EnterStandbyCommand({ AutoScalingGroupName, InstanceIds: [InstanceId], ShouldDecrementDesiredCapacity: false }),
  );
}

/** Return an instance from Standby to service (release). */
export async function exitStandby(c: Ec2Clients, AutoScalingGroupName: string, InstanceId: string): Promise<void> {
  await c.autoscaling.send(new ExitStandbyCommand({ AutoScalingGroupName, InstanceIds: [InstanceId] }));
}

/** Every target group in the VPCs given, with the instance targets registered in it. */
export async function targetRegistrations(
  c: Ec2Clients,
  vpcIds: string[],
  instanceIds: string[],
): Promise<{ targetGroupArn: string; instanceId: string; port?: number }[]> {
  const wanted = new Set(instanceIds);
  const out: { targetGroupArn: string; instanceId: string; port?: number }[] = [];
  let Marker: string | undefined;
  do {
    const res = await c.elb.send(new DescribeTargetGroupsCommand({ ...(Marker ? { Marker } : {}) }));
    for (const tg of res.TargetGroups ?? []) {
      if (tg.TargetType && tg.TargetType !== 'instance') continue;
      if (tg.VpcId && !vpcIds.includes(tg.VpcId)) continue;
      const health = await c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn! }));
      for (const d of health.TargetHealthDescriptions ?? []) {
        const id = d.Target?.Id;
        if (id && wanted.has(id))
          out.push({
            targetGroupArn: tg.TargetGroupArn!,
            instanceId: id,
            ...(d.Target?.Port ? { port: d.Target.Port } : {}),
          });
      }
    }
    Marker = res.NextMarker;
  } while (Marker);
  return out;
}

/** Take an instance out of a target group it was registered in by hand. */
export async function deregisterTarget(
  c: Ec2Clients,
  TargetGroupArn: string,
  Id: string,
  Port?: number,
): Promise<void> {
  await c.elb.send(new DeregisterTargetsCommand({ TargetGroupArn, Targets: [{ Id, ...(Port ? { Port } : {}) }] }));
}

/** Put an instance back into a target group (release). */
export async function registerTarget(c: Ec2Clients, TargetGroupArn: string, Id: string, Port?: number): Promise<void> {
  await c.elb.send(new RegisterTargetsCommand({ TargetGroupArn, Targets: [{ Id, ...(Port ? { Port } : {}) }] }));
}

/** Read-only checks for services without DryRun. */
export async function readChecks(
  c: Ec2Clients,
): Promise<{ autoscaling: () => Promise<void>; elb: () => Promise<void> }> {
  return {
    autoscaling: async () =>
      void (await c.autoscaling.send(new DescribeAutoScalingInstancesCommand({ MaxRecords: 1 }))),
    elb: async () => void (await c.elb.send(new DescribeTargetGroupsCommand({ PageSize: 1 }))),
  };
}

/** Adapt this provider's EC2 client to the SDK-free isolation-group logic. */
export function securityGroupApi(c: Ec2Clients): SecurityGroupApi {
  return ec2SecurityGroupApi(c.ec2);
}

/** Run an EC2 call with DryRun: 'allowed' on DryRunOperation, 'denied' on UnauthorizedOperation. */
export async function dryRunProbe(
  call: () => Promise<unknown>,
): Promise<{ allowed: boolean | 'unknown'; detail: string }> {
  try {
    await call();
    return { allowed: 'unknown', detail: 'the call succeeded although DryRun was set' };
  } catch (error) {
    const name = (error as Error).name ?? '';
    const { kind } = classifyAwsError(error);
    if (kind === 'dry-run-allowed') return { allowed: true, detail: name };
    if (kind === 'access-denied') return { allowed: false, detail: name };
    // An answer that is no AWS answer is said in words, not as the SDK's parse error.
    const uncheckable = uncheckableDetail(error);
    if (uncheckable) return { allowed: 'unknown', detail: uncheckable };
    return { allowed: 'unknown', detail: `${name}: ${(error as Error).message}` };
  }
}

/** DryRun probes for calls that have no plain-data wrapper above. */
export const dryRunCalls = {
  createSecurityGroup: (c: Ec2Clients, VpcId: string) =>
    c.ec2.send(
      new CreateSecurityGroupCommand({ VpcId, GroupName: 'holdfast-dry-run', Description: 'dry run', DryRun: true }),
    ),
  describeInstance: (c: Ec2Clients, InstanceId: string) =>
    c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [InstanceId], DryRun: true })),
};

/** One page of a snapshot's written blocks (ascending index) and the volume geometry. */
export async function listSnapshotBlocks(
  c: Ec2Clients,
  SnapshotId: string,
  NextToken?: string,
): Promise<{ volumeSizeGiB: number; blockSize: number; blocks: { index: number; token: string }[]; next?: string }> {
  const out = await c.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId, ...(NextToken ? { NextToken } : {}) }));
  return {
    volumeSizeGiB: Number(out.VolumeSize ?? 0),
    blockSize: Number(out.BlockSize ?? 0),
    blocks: (out.Blocks ?? []).map((b) => ({ index: b.BlockIndex ?? 0, token: b.BlockToken ?? '' })),
    ...(out.NextToken ? { next: out.NextToken } : {}),
  };
}

/**
 * One block's bytes and the checksum EBS reports for them (base64 SHA-256).
 * https://docs.aws.amazon.com/ebs/latest/APIReference/API_GetSnapshotBlock.html
 */
export async function getSnapshotBlock(
  c: Ec2Clients,
  SnapshotId: string,
  BlockIndex: number,
  BlockToken: string,
  signal?: AbortSignal,
): Promise<{ data: Buffer; checksum?: string; algorithm?: string }> {
  const out = await c.ebs.send(
    new GetSnapshotBlockCommand({ SnapshotId, BlockIndex, BlockToken }),
    signal ? { abortSignal: signal as never } : {},
  );
  const data = Buffer.from((await out.BlockData?.transformToByteArray()) ?? []);
  return {
    data,
    ...(out.Checksum ? { checksum: out.Checksum } : {}),
    ...(out.ChecksumAlgorithm ? { algorithm: out.ChecksumAlgorithm } : {}),
  };
}

/** SSM's view of instances: agent ping status and platform, by instance id (absent: not managed). */
export async function ssmManagedInstances(
  c: Ec2Clients,
  ids: string[],
): Promise<Map<string, { pingStatus: string; platformType: string }>> {
  const found = new Map<string, { pingStatus: string; platformType: string }>();
  for (const batch of chunks(ids, MAX_SSM_INSTANCE_IDS)) {
    let NextToken: string | undefined;
    do {
      const page = await c.ssm.send(
        new DescribeInstanceInformationCommand({
          Filters: [{ Key: 'InstanceIds', Values: batch }],
          ...(NextToken ? { NextToken } : {}),
        }),
      );
      for (const i of page.InstanceInformationList ?? [])
        found.set(i.InstanceId!, { pingStatus: i.PingStatus ?? 'unknown', platformType: i.PlatformType ?? 'unknown' });
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return found;
}

/** Instance ids per DescribeInstanceInformation filter (SSM accepts up to 50). */
export const MAX_SSM_INSTANCE_IDS = 50;

/** Memory of instance types in MiB (DescribeInstanceTypes). */
export async function instanceTypeMemory(c: Ec2Clients, types: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const batch of chunks(types, 100)) {
    const res = await c.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: batch as never }));
    for (const t of res.InstanceTypes ?? []) if (t.MemoryInfo?.SizeInMiB) out[t.InstanceType!] = t.MemoryInfo.SizeInMiB;
  }
  return out;
}

/**
 * Run a shell script on one instance through SSM Run Command (AWS-RunShellScript). No output bucket:
 * output stays in SSM (the evidence bucket is never an SSM output bucket).
 */
export async function sendShellScript(
  c: Ec2Clients,
  InstanceId: string,
  script: string,
  executionTimeoutSeconds: number,
  comment: string,
): Promise<string> {
  const res = await c.ssm.send(
    new SendCommandCommand({
      InstanceIds: [InstanceId],
      DocumentName: 'AWS-RunShellScript',
      Comment: comment.slice(0, 100),
      TimeoutSeconds: 600,
      Parameters: { commands: [script], executionTimeout: [String(executionTimeoutSeconds)] },
    }),
  );
  return res.Command!.CommandId!;
}

/** A command's status on one instance, and the end of its error output; undefined before SSM knows it. */
export async function commandInvocation(
  c: Ec2Clients,
  CommandId: string,
  InstanceId: string,
): Promise<{ status: string; stderr: string } | undefined> {
  try {
    const res = await c.ssm.send(new GetCommandInvocationCommand({ CommandId, InstanceId }));
    return { status: res.Status ?? 'Unknown', stderr: (res.StandardErrorContent ?? '').slice(-400) };
  } catch (error) {
    if ((error as Error).name === 'InvocationDoesNotExist') return undefined;
    throw error;
  }
}
