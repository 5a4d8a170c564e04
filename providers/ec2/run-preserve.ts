/** Preserve: tags, termination/stop protection, shutdown behaviour, DeleteOnTermination, Auto Scaling Standby. */
import {
  autoScalingMembership,
  enterStandby,
  setDeleteOnTerminationAll,
  setInstanceAttribute,
  type InstanceAttributeName,
} from './client.js';
import { ec2ClientsFor } from './context.js';
import { ec2FleetFor } from './fleet.js';
import type { Ec2Outcome, Ec2StepContext } from './steps.js';

/** Tags every resource of the instance so anyone (and a re-run) sees it is evidence. */
export async function runTag(ctx: Ec2StepContext<'tag'>): Promise<Ec2Outcome<'tag'>> {
  const { resources, observed = {} } = ctx.step.inputs;
  // The same tags on every instance, so one CreateTags carries a whole batch of the fleet.
  const tags = { 'holdfast:incident': ctx.incident, 'holdfast:do-not-delete': 'true' };
  // Write-ahead: the record is durable before the call is sent.
  // Recorded together: one group commit covers them all before the call is sent.
  await Promise.all(
    resources.map((r) =>
      // What was there: another (released) incident's tags stay on record as this change's before.
      ctx.recordChange({ resource: r, attribute: 'tags', before: observed[r] ?? null, after: tags, reversible: false }),
    ),
  );
  await ec2FleetFor(ctx).tag(resources, tags);
  return { outputs: { tagged: resources } };
}

const PROTECTION: [InstanceAttributeName, string | boolean][] = [
  ['disableApiTermination', true],
  ['disableApiStop', true],
  ['instanceInitiatedShutdownBehavior', 'stop'],
];

/**
 * Sets each protection attribute that is not already set, recording what it was. The attributes and
 * the instance are read once for the capture (collect's describe reuses them); every change is on
 * disk before the writes go out together.
 */
export async function runProtect(ctx: Ec2StepContext<'protect'>): Promise<Ec2Outcome<'protect'>> {
  const c = ec2ClientsFor(ctx);
  const fleet = ec2FleetFor(ctx);
  const { instanceId, stopProtectionBlocker } = ctx.step.inputs;
  const limitations: string[] = [];
  // Read the instance's block devices now, not the plan: a volume may have been attached since. The
  // instance's mapping is the authority on DeleteOnTermination (moto leaves it out of DescribeVolumes).
  const [{ value: attributes }, { value: instance }] = await Promise.all([
    fleet.attributes(instanceId),
    fleet.instance(instanceId),
  ]);
  const writes: (() => Promise<void>)[] = [];
  // Every record is emitted first and awaited together (one group commit), then the writes go out.
  const records: Promise<unknown>[] = [];
  for (const [attribute, value] of PROTECTION) {
    if (attribute === 'disableApiStop' && stopProtectionBlocker) {
      limitations.push(stopProtectionBlocker);
      continue;
    }
    const before = attributes[attribute];
    if (before === value) continue;
    records.push(
      ctx.recordChange({
        resource: instanceId,
        attribute,
        before: before ?? null,
        after: value,
        reversible: false,
      }),
    );
    writes.push(async () => {
      await setInstanceAttribute(c, instanceId, attribute, value);
      fleet.setAttribute(instanceId, attribute, value);
    });
  }
  const devices: string[] = [];
  for (const mapping of instance?.BlockDeviceMappings ?? []) {
    if (!mapping.DeviceName || !mapping.Ebs || mapping.Ebs.DeleteOnTermination === false) continue;
    records.push(
      ctx.recordChange({
        resource: `${instanceId}:${mapping.DeviceName}`,
        attribute: 'deleteOnTermination',
        before: true,
        after: false,
        reversible: false,
      }),
    );
    devices.push(mapping.DeviceName);
  }
  // One ModifyInstanceAttribute carries every block device (one attribute, many mappings).
  if (devices.length) writes.push(() => setDeleteOnTerminationAll(c, instanceId, devices, false));
  await Promise.all(records);
  await Promise.all(writes.map((w) => w()));
  return { limitations };
}

/** Standby keeps the group from terminating the instance (scale-in, failed health checks once isolated). */
export async function runStandby(ctx: Ec2StepContext<'standby'>): Promise<Ec2Outcome<'standby'>> {
  const c = ec2ClientsFor(ctx);
  const { instanceId, group } = ctx.step.inputs;
  const [now] = await autoScalingMembership(c, [instanceId]);
  if (now?.lifecycleState.startsWith('Standby') || now?.lifecycleState === 'EnteringStandby')
    return { note: `${instanceId} already in Standby` };
  await ctx.recordChange({
    resource: `asg:${group}/${instanceId}`,
    attribute: 'lifecycleState',
    before: now?.lifecycleState ?? 'InService',
    after: 'Standby',
    reversible: true,
  });
  await enterStandby(c, group, instanceId);
  return { outputs: { group } };
}
