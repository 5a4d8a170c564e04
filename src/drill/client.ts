/**
 * The drill's only SDK file, as a provider's client.ts is for its provider. It seeds the drill
 * scenario into the local AWS emulator: a compromised web instance with three network interfaces in
 * two subnets and two volumes, in an Auto Scaling group behind a load balancer, plus its RDS
 * database and an Object Lock evidence bucket. Drill tooling only: it talks to the emulator, never to
 * a real account.
 */
import { AttachInstancesCommand, AutoScalingClient, CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  CreateLaunchTemplateCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBInstanceCommand, CreateDBSubnetGroupCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

export interface SeededAws {
  region: string;
  bucket: string;
  vpcId: string;
  instanceId: string;
  networkInterfaceIds: string[];
  volumeIds: string[];
  autoScalingGroup: string;
  targetGroupArns: string[];
  dbInstance: string;
  originalGroupId: string;
}

/** Create the scenario's AWS resources in the emulator at `endpoint`. */
export async function seedAws(endpoint: string, suffix: string, region = 'us-east-1'): Promise<SeededAws> {
  const common = { endpoint, region, credentials: { accessKeyId: 'drill', secretAccessKey: 'drill' }, maxAttempts: 2 };
  const ec2 = new EC2Client(common);
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }))).Vpc!;
  const subnetA = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpc.VpcId!, CidrBlock: '10.42.1.0/24', AvailabilityZone: `${region}a` }),
    )
  ).Subnet!;
  const subnetB = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpc.VpcId!, CidrBlock: '10.42.2.0/24', AvailabilityZone: `${region}b` }),
    )
  ).Subnet!;
  const web = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: `web-${suffix}`, Description: 'web tier', VpcId: vpc.VpcId! }),
  );
  const image = (await ec2.send(new DescribeImagesCommand({ MaxResults: 5 }))).Images?.[0]?.ImageId ?? 'ami-12c6146b';

  // Groups go on the interface, not SecurityGroupIds: moto reports launch groups on every ENI otherwise.
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: image,
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetA.SubnetId!, Groups: [web.GroupId!] }],
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'Name', Value: `web-${suffix}` },
            { Key: 'role', Value: 'web' },
          ],
        },
      ],
    }),
  );
  const instance = run.Instances![0]!;
  const enis = [instance.NetworkInterfaces![0]!.NetworkInterfaceId!];
  for (const [i, subnet] of [subnetB, subnetA].entries()) {
    const eni = (
      await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet.SubnetId!, Groups: [web.GroupId!] }))
    ).NetworkInterface!;
    await ec2.send(
      new AttachNetworkInterfaceCommand({
        NetworkInterfaceId: eni.NetworkInterfaceId!,
        InstanceId: instance.InstanceId!,
        DeviceIndex: i + 1,
      }),
    );
    enis.push(eni.NetworkInterfaceId!);
  }
  // Extra BlockDeviceMappings create no volume in moto: create and attach instead.
  const volumes: string[] = [];
  for (const device of ['/dev/sdf', '/dev/sdg']) {
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 8 }));
    await ec2.send(
      new AttachVolumeCommand({ VolumeId: vol.VolumeId!, InstanceId: instance.InstanceId!, Device: device }),
    );
    volumes.push(vol.VolumeId!);
  }

  const asg = new AutoScalingClient(common);
  const template = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `web-${suffix}`,
      LaunchTemplateData: { ImageId: image, InstanceType: 't3.micro' },
    }),
  );
  const elb = new ElasticLoadBalancingV2Client(common);
  await elb.send(
    new CreateLoadBalancerCommand({
      Name: `web-${suffix}`.slice(0, 32),
      Subnets: [subnetA.SubnetId!, subnetB.SubnetId!],
      SecurityGroups: [web.GroupId!],
    }),
  );
  const tgAsg = (
    await elb.send(
      new CreateTargetGroupCommand({
        Name: `web-asg-${suffix}`.slice(0, 32),
        Protocol: 'HTTP',
        Port: 80,
        VpcId: vpc.VpcId!,
      }),
    )
  ).TargetGroups![0]!;
  const tgDirect = (
    await elb.send(
      new CreateTargetGroupCommand({
        Name: `web-admin-${suffix}`.slice(0, 32),
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: vpc.VpcId!,
      }),
    )
  ).TargetGroups![0]!;
  const groupName = `web-asg-${suffix}`;
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: groupName,
      LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate!.LaunchTemplateId!, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 3,
      DesiredCapacity: 0,
      VPCZoneIdentifier: `${subnetA.SubnetId},${subnetB.SubnetId}`,
      TargetGroupARNs: [tgAsg.TargetGroupArn!],
    }),
  );
  await asg.send(new AttachInstancesCommand({ AutoScalingGroupName: groupName, InstanceIds: [instance.InstanceId!] }));
  // Registered by hand in a group the ASG does not manage: Standby does not remove it from there.
  await elb.send(
    new RegisterTargetsCommand({
      TargetGroupArn: tgDirect.TargetGroupArn!,
      Targets: [{ Id: instance.InstanceId!, Port: 8080 }],
    }),
  );

  const rds = new RDSClient(common);
  const dbSg = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: `db-${suffix}`, Description: 'database tier', VpcId: vpc.VpcId! }),
  );
  await rds.send(
    new CreateDBSubnetGroupCommand({
      DBSubnetGroupName: `db-${suffix}`,
      DBSubnetGroupDescription: 'drill',
      SubnetIds: [subnetA.SubnetId!, subnetB.SubnetId!],
    }),
  );
  const dbInstance = `orders-${suffix}`;
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: dbInstance,
      Engine: 'postgres',
      DBInstanceClass: 'db.t3.micro',
      AllocatedStorage: 20,
      MasterUsername: 'orders',
      MasterUserPassword: `drill-only-${suffix}`,
      DBSubnetGroupName: `db-${suffix}`,
      VpcSecurityGroupIds: [dbSg.GroupId!],
    }),
  );

  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const bucket = `holdfast-drill-${suffix}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));

  return {
    region,
    bucket,
    vpcId: vpc.VpcId!,
    instanceId: instance.InstanceId!,
    networkInterfaceIds: enis,
    volumeIds: volumes,
    autoScalingGroup: groupName,
    targetGroupArns: [tgAsg.TargetGroupArn!, tgDirect.TargetGroupArn!],
    dbInstance,
    originalGroupId: web.GroupId!,
  };
}
