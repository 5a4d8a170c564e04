/** Seeds a bench fleet in moto: one VPC, subnet and security group, instances launched in batches. */
import {
  AttachVolumeCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  type EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';

/** RunInstances launches at most this many per call in moto's default quota. */
const LAUNCH_BATCH = 100;

export interface FleetSeed {
  /** Tag `bench=<run>` on every instance (what a capture selects by --instance-tag). */
  run: string;
  /** A data volume attached to each instance besides its root volume. */
  dataVolume: boolean;
}

/** Launches `n` instances, each with one network interface; returns their ids in launch order. */
export async function seedFleet(ec2: EC2Client, n: number, seed: FleetSeed): Promise<string[]> {
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
  const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.9.0.0/18' }))).Subnet!;
  const sg = (
    await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: `app-${seed.run}`, Description: 'app' }))
  ).GroupId!;
  const ids: string[] = [];
  for (let left = n; left > 0; left -= LAUNCH_BATCH) {
    const count = Math.min(LAUNCH_BATCH, left);
    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: 't3.micro',
        MinCount: count,
        MaxCount: count,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet.SubnetId!, Groups: [sg] }],
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'bench', Value: seed.run }] }],
      }),
    );
    ids.push(...launched.Instances!.map((i) => i.InstanceId!));
    // moto makes no volume from extra BlockDeviceMappings: the data volume is created and attached.
    if (seed.dataVolume)
      await Promise.all(
        launched.Instances!.map(async (i) => {
          const volume = await ec2.send(
            new CreateVolumeCommand({ AvailabilityZone: i.Placement!.AvailabilityZone!, Size: 8 }),
          );
          await ec2.send(
            new AttachVolumeCommand({ VolumeId: volume.VolumeId!, InstanceId: i.InstanceId!, Device: '/dev/sdf' }),
          );
        }),
      );
  }
  return ids;
}
