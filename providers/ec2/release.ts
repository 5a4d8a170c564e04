/** Undo one recorded EC2 change exactly: ENI groups, Standby, target registrations, and protection on request. */
import { InternalError } from '../../src/core/errors.js';
import { groupReleaseDecision, releaseGroups } from '../../src/aws/isolation-group.js';
import type { ChangeRecord, ReleaseContext } from '../../src/core/types.js';
import {
  autoScalingMembership,
  eniGroupsNow,
  exitStandby,
  registerTarget,
  securityGroupApi,
  setDeleteOnTermination,
  setEniGroups,
  setInstanceAttribute,
  type InstanceAttributeName,
} from './client.js';
import { ec2ClientsFor } from './context.js';

const unrecordedGroups = (eni: string) =>
  `${eni}'s original groups were not recorded (isolation was interrupted without a journal); left isolated`;

/** Undo one recorded EC2 change exactly. */
export async function releaseEc2(
  change: ChangeRecord,
  ctx: ReleaseContext,
): Promise<{ restored: boolean; note?: string }> {
  const c = ec2ClientsFor(ctx);
  switch (change.attribute) {
    case 'groups': {
      const before = change.before as string[] | null;
      if (!before?.length) return { restored: false, note: unrecordedGroups(change.resource) };
      return releaseGroups(securityGroupApi(c), {
        incident: ctx.incident,
        name: change.resource,
        current: await eniGroupsNow(c, change.resource),
        before,
        restore: () => setEniGroups(c, change.resource, before),
      });
    }
    case 'lifecycleState': {
      const [group, instanceId] = change.resource.replace(/^asg:/, '').split('/') as [string, string];
      const [now] = await autoScalingMembership(c, [instanceId]);
      if (!now?.lifecycleState.startsWith('Standby'))
        return { restored: false, note: `${instanceId} is ${now?.lifecycleState ?? 'not in a group'}; left as it is` };
      await exitStandby(c, group, instanceId);
      return { restored: true };
    }
    case 'tags':
      return { restored: false, note: 'evidence tags stay' };
    case 'deleteOnTermination': {
      const [instanceId, device] = change.resource.split(':') as [string, string];
      await setDeleteOnTermination(c, instanceId, device, Boolean(change.before));
      return { restored: true };
    }
    case 'disableApiTermination':
    case 'disableApiStop':
    case 'instanceInitiatedShutdownBehavior':
      await setInstanceAttribute(
        c,
        change.resource,
        change.attribute as InstanceAttributeName,
        change.before as string | boolean,
      );
      return { restored: true };
    default:
      if (change.attribute.startsWith('target:')) {
        const [, instanceId, port] = change.attribute.split(':');
        await registerTarget(c, change.resource, instanceId!, port ? Number(port) : undefined);
        return { restored: true };
      }
      throw new InternalError(`ec2 cannot release ${change.attribute} of ${change.resource}`);
  }
}

/** Read-only: the interfaces and Standby changes release would leave alone now, with the same notes release gives. */
export async function checkEc2Release(
  changes: ChangeRecord[],
  ctx: ReleaseContext,
): Promise<{ changeId: string; note: string }[]> {
  const c = ec2ClientsFor(ctx);
  const left: { changeId: string; note: string }[] = [];
  for (const change of changes) {
    if (change.attribute === 'groups') {
      const before = change.before as string[] | null;
      const decision = before?.length
        ? await groupReleaseDecision(securityGroupApi(c), {
            incident: ctx.incident,
            name: change.resource,
            current: await eniGroupsNow(c, change.resource),
            before,
          })
        : { act: 'leave', note: unrecordedGroups(change.resource) };
      if (decision.act === 'leave') left.push({ changeId: change.id, note: decision.note });
    } else if (change.attribute === 'lifecycleState') {
      const instanceId = change.resource.replace(/^asg:/, '').split('/')[1]!;
      const [now] = await autoScalingMembership(c, [instanceId]);
      if (!now?.lifecycleState.startsWith('Standby'))
        left.push({
          changeId: change.id,
          note: `${instanceId} is ${now?.lifecycleState ?? 'not in a group'}; left as it is`,
        });
    }
  }
  return left;
}
