/** A small fleet in moto for fault tests: N instances with M interfaces each, every interface on its own groups. */
import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';

/** An Amazon Linux 2 image among moto's default AMIs. */
export const LINUX_AMI = 'ami-04681a1dbd79675a5';

export interface Fleet {
  vpcId: string;
  instanceIds: string[];
  /** Every interface and the groups it had before any capture (sorted). */
  original: Map<string, string[]>;
}

/** A client straight to moto (never through the fault proxy), for set-up and inspection. */
export function motoEc2(endpoint: string): EC2Client {
  return new EC2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    // The harness's own seeding and checks retry: under the sweeps' parallel load moto's threaded server
    // now and then answers an HTML 500 (seen in CI). The code under test keeps its own retry settings.
    maxAttempts: 4,
  });
}

/** Seed `instances` instances with `enis` interfaces each; interface j of each carries j+1 of three groups. */
export async function seedFleet(
  ec2: EC2Client,
  suffix: string,
  instances = 2,
  enis = 2,
  instanceType: 't3.micro' | 'm5.large' = 't3.micro',
  /** moto's ami-12c6146b is a Windows image; LINUX_AMI for Linux-only work (memory). */
  imageId = 'ami-12c6146b',
): Promise<Fleet> {
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc!;
  const subnet = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpc.VpcId!, CidrBlock: '10.77.1.0/24', AvailabilityZone: 'us-east-1a' }),
    )
  ).Subnet!;
  const groups: string[] = [];
  for (const name of ['app', 'ssh', 'metrics'])
    groups.push(
      (
        await ec2.send(
          new CreateSecurityGroupCommand({ GroupName: `${name}-${suffix}`, Description: name, VpcId: vpc.VpcId! }),
        )
      ).GroupId!,
    );
  const original = new Map<string, string[]>();
  const instanceIds: string[] = [];
  for (let i = 0; i < instances; i++) {
    // Groups on the interface, not SecurityGroupIds: moto reports launch groups on every ENI otherwise.
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
        InstanceType: instanceType,
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet.SubnetId!, Groups: groups.slice(0, 1) }],
      }),
    );
    const instance = run.Instances![0]!;
    instanceIds.push(instance.InstanceId!);
    original.set(instance.NetworkInterfaces![0]!.NetworkInterfaceId!, groups.slice(0, 1).sort());
    for (let j = 1; j < enis; j++) {
      const mine = groups.slice(0, Math.min(j + 1, groups.length)).sort();
      const eni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet.SubnetId!, Groups: mine })))
        .NetworkInterface!;
      await ec2.send(
        new AttachNetworkInterfaceCommand({
          NetworkInterfaceId: eni.NetworkInterfaceId!,
          InstanceId: instance.InstanceId!,
          DeviceIndex: j,
        }),
      );
      original.set(eni.NetworkInterfaceId!, mine);
    }
  }
  return { vpcId: vpc.VpcId!, instanceIds, original };
}

/** The groups each interface of the fleet is on now (sorted). */
export async function groupsNow(ec2: EC2Client, fleet: Fleet): Promise<Map<string, string[]>> {
  const res = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [...fleet.original.keys()] }));
  return new Map(
    (res.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId!, (n.Groups ?? []).map((g) => g.GroupId!).sort()]),
  );
}

/** Snapshot ids and their volumes that carry the incident's tag. */
export async function incidentSnapshots(ec2: EC2Client, incident: string) {
  const res = await ec2.send(
    new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] }),
  );
  return (res.Snapshots ?? []).map((s) => ({ id: s.SnapshotId!, volumeId: s.VolumeId! }));
}

/** The incident's security groups (convert and isolation, per VPC). */
export async function incidentGroups(ec2: EC2Client, incident: string) {
  const res = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:holdfast:incident', Values: [incident] }] }),
  );
  return (res.SecurityGroups ?? []).map((g) => ({ id: g.GroupId!, name: g.GroupName!, vpcId: g.VpcId! }));
}
