/**
 * A saved plan's EC2 step, checked like fresh input: its action is one of ours, every input has
 * the type and syntax the planner writes, and what the case decides (the instances, the snapshot
 * lock, the copy account and key, the region) is what the case says. Pure: no call is made.
 */
import { type InputProblem } from '../../src/core/errors.js';
import {
  anyObject,
  bool,
  caseRegion,
  equals,
  int,
  listOf,
  nullable,
  shape,
  targetProblems,
  text,
  type Check,
} from '../../src/core/input-shape.js';
import type { Case, Step } from '../../src/core/types.js';
import type { Ec2Params } from './facts.js';
import { DEFAULT_MEMORY_TIMEOUT_SECONDS, INSTANCE_ID } from './params.js';
import { MAX_MEMORY_PARTS, MAX_SINGLE_PUT_BYTES } from './plan-memory.js';
import type { Ec2Actions, Ec2Step } from './steps.js';

/** An EC2 resource id: its prefix, then lowercase letters and digits (AWS's are 8 or 17 hex digits). */
const id = (prefix: string, what: string) => text(new RegExp(`^${prefix}-[0-9a-z]{1,32}$`), `is not ${what}`);
const volumeId = id('vol', 'an EBS volume id');
const vpcId = id('vpc', 'a VPC id');
const eni = shape({
  id: id('eni', 'a network interface id'),
  vpcId,
  subnetId: id('subnet', 'a subnet id'),
  groups: listOf(id('sg', 'a security group id')),
  requesterManaged: bool,
  deviceIndex: int(0, 1024),
});
const device = text(/^(\/dev\/)?[a-z0-9]{0,16}$/, 'is not a device name (/dev/xvda, xvdf)');
const targetGroupArn = text(
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[\w-]{1,32}\/[0-9a-f]{16}$/,
  'is not a target group ARN',
);

/** The inputs of each action, given the case's EC2 params and the step's instance. */
function inputShapes(kase: Case, params: Ec2Params, instanceId: string): Record<keyof Ec2Actions, Check> {
  const instance = equals(instanceId, "the step's id");
  const snapshotStep = equals(`ec2:snapshot/${instanceId}`, "the step's instance");
  return {
    tag: shape(
      {
        instanceId: instance,
        resources: listOf(text(/^(i|vol|eni)-[0-9a-z]{1,32}$/, 'is not an id')),
        observed: anyObject,
      },
      ['observed'],
    ),
    protect: shape({
      instanceId: instance,
      stopProtectionBlocker: nullable(text()),
      volumes: listOf(shape({ id: volumeId, device })),
    }),
    standby: shape({ instanceId: instance, group: text(/^[^\p{Cc}]{1,255}$/u, 'is not an Auto Scaling group name') }),
    describe: shape({
      instanceId: instance,
      region: caseRegion(kase),
      // The facts discovery read are recorded as they were; their ids are still checked.
      facts: shape(
        {
          instanceId: instance,
          state: text(),
          spot: bool,
          rootDeviceType: text(),
          vpcId: text(/^(vpc-[0-9a-z]{1,32})?$/, 'is not a VPC id'),
          availabilityZone: text(),
          accountId: text(/^\d{12}$/, 'is not an account id'),
          instanceProfile: text(),
          tags: anyObject,
          enis: listOf(eni),
          volumes: listOf(anyObject),
          autoScaling: anyObject,
          registrations: listOf(anyObject),
          holdfastTags: anyObject,
          heldBy: anyObject,
        },
        ['accountId', 'instanceProfile', 'autoScaling', 'holdfastTags', 'heldBy'],
      ),
    }),
    snapshot: shape({
      instanceId: instance,
      volumes: listOf(volumeId),
      region: caseRegion(kase),
      lockDays: equals(params.lockSnapshotsDays, 'targets.ec2.lockSnapshotsDays in the case'),
    }),
    deregister: shape({
      instanceId: instance,
      registrations: listOf(shape({ targetGroupArn, port: int(1, 65535) }, ['port'])),
    }),
    'isolation-group': shape({ vpcId }),
    isolate: shape({ instanceId: instance, enis: listOf(eni) }),
    settle: shape({
      instanceId: instance,
      snapshotStep,
      region: caseRegion(kase),
      lockDays: equals(params.lockSnapshotsDays, 'targets.ec2.lockSnapshotsDays in the case'),
      copyToAccount: equals(params.copyToAccount, 'targets.ec2.copyToAccount in the case'),
      kmsKey: equals(params.kmsKey, 'targets.ec2.kmsKey in the case'),
    }),
    'hash-snapshots': shape({ instanceId: instance, snapshotStep, region: caseRegion(kase) }),
    memory: shape({
      instanceId: instance,
      region: caseRegion(kase),
      avml,
      timeoutSeconds: equals(
        params.memoryTimeoutSeconds ?? DEFAULT_MEMORY_TIMEOUT_SECONDS,
        'targets.ec2.memoryTimeoutSeconds in the case',
      ),
      parts: int(1, MAX_MEMORY_PARTS),
      partMiB: int(1, MAX_SINGLE_PUT_BYTES / 2 ** 20),
    }),
    'memory-image': shape({
      instanceId: instance,
      region: caseRegion(kase),
      acquireStep: equals(`ec2:memory/${instanceId}`, "the step's instance"),
      avml,
    }),
  };
}

/** The pinned AVML: a version and a SHA-256 (the host refuses any other binary). */
const avml = shape({
  version: text(/^\d+\.\d+\.\d+$/, 'is not an AVML version'),
  sha256: text(/^[0-9a-f]{64}$/, 'is not a hex SHA-256'),
});

/**
 * Check one EC2 step of a saved plan against its case. Fields are paths in the step (`inputs.instanceId`).
 * An instance must be one the case names, unless the case selects instances by tag (then only discovery
 * knows them, and its syntax is what is checked).
 */
export function parseEc2Step(step: Step, kase: Case): { step?: Ec2Step; problems: InputProblem[] } {
  const problems: InputProblem[] = [];
  const params = kase.targets.ec2 as Ec2Params | undefined;
  if (!params) return { problems: [{ field: 'provider', message: 'ec2 has no targets in the case' }] };
  const local = step.id.slice('ec2:'.length);
  const [action = '', subject = ''] = [local.slice(0, local.indexOf('/')), local.slice(local.indexOf('/') + 1)];
  if (action !== step.action) problems.push({ field: 'id', message: `does not name the step's action ${step.action}` });
  const shapes = inputShapes(kase, params, subject);
  if (!Object.hasOwn(shapes, step.action)) {
    problems.push({ field: 'action', message: `${JSON.stringify(step.action)} is not an EC2 action` });
    return { problems };
  }
  if (step.action === 'isolation-group') {
    problems.push(...targetProblems(step, `ec2:vpc:${subject}`));
    shapes['isolation-group'](step.inputs, 'inputs', problems);
    equals(subject, "the step's id")(step.inputs.vpcId, 'inputs.vpcId', problems);
  } else {
    if (!INSTANCE_ID.test(subject))
      problems.push({ field: 'id', message: `${JSON.stringify(subject)} is not an EC2 instance id`, continues: true });
    else if (!params.instanceTags.length && !params.instances.includes(subject))
      problems.push({
        field: 'inputs.instanceId',
        message: `${JSON.stringify(subject)} is not among targets.ec2.instances in the case`,
        continues: true,
      });
    problems.push(...targetProblems(step, `ec2:${subject}`));
    shapes[step.action as keyof Ec2Actions](step.inputs, 'inputs', problems);
  }
  if (step.action === 'hash-snapshots' && !params.hashSnapshots)
    problems.push({
      field: 'action',
      message: 'hash-snapshots is planned only when targets.ec2.hashSnapshots is true',
    });
  return problems.length ? { problems } : { step: step as Ec2Step, problems };
}
