/** Contain: leave unmanaged target groups, find/create isolation groups per VPC, swap every ENI through convert to isolation. */
import { RemoteError } from '../../src/core/errors.js';
import { runIsolationGroupStep } from '../../src/aws/isolation-group.js';
import { deregisterTarget, securityGroupApi, setEniGroups } from './client.js';
import { ec2ClientsFor } from './context.js';
import { ec2FleetFor } from './fleet.js';
import { ec2OutputOf, type Ec2Outcome, type Ec2StepContext } from './steps.js';

/** Deregister the instance from target groups its Auto Scaling group does not manage, recording each. */
export async function runDeregister(ctx: Ec2StepContext<'deregister'>): Promise<Ec2Outcome<'deregister'>> {
  const c = ec2ClientsFor(ctx);
  const { instanceId, registrations } = ctx.step.inputs;
  for (const r of registrations) {
    await ctx.recordChange({
      resource: r.targetGroupArn,
      attribute: `target:${instanceId}:${r.port ?? ''}`,
      before: 'registered',
      after: 'deregistered',
      reversible: true,
    });
    await deregisterTarget(c, r.targetGroupArn, instanceId, r.port);
  }
  return {};
}

/** This incident's convert and isolation groups in the step's VPC (shared with RDS). */
export async function runIsolationGroup(
  ctx: Ec2StepContext<'isolation-group'>,
): Promise<Ec2Outcome<'isolation-group'>> {
  return runIsolationGroupStep(securityGroupApi(ec2ClientsFor(ctx)), ctx);
}

/**
 * Record each ENI's groups, then swap: convert group first (untracks flows), isolation group at once
 * after. Works on the interfaces attached now, so one attached since discovery is isolated too.
 */
export async function runIsolate(ctx: Ec2StepContext<'isolate'>): Promise<Ec2Outcome<'isolate'>> {
  const c = ec2ClientsFor(ctx);
  const { instanceId, enis: planned } = ctx.step.inputs;
  const limitations: string[] = [];
  // The interfaces as collect read them this run (batched, once): no re-read before the swap.
  const attached = [...(await ec2FleetFor(ctx).enis(instanceId)).value].sort(
    (a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0),
  );
  for (const gone of planned.filter((p) => !attached.some((a) => a.NetworkInterfaceId === p.id))) {
    limitations.push(`${gone.id} was detached from ${instanceId} after discovery and was not isolated`);
  }
  const isolated: string[] = [];
  const unplanned: string[] = [];
  for (const eni of attached) {
    const id = eni.NetworkInterfaceId!;
    if (eni.RequesterManaged) {
      limitations.push(`${id} on ${instanceId} is requester-managed and was not re-grouped`);
      continue;
    }
    const groups = ec2OutputOf(ctx, 'isolation-group', `ec2:isolation-group/${eni.VpcId}`);
    if (!groups) {
      unplanned.push(`${id} (${eni.VpcId})`);
      continue;
    }
    const now = (eni.Groups ?? []).map((g) => g.GroupId!).sort();
    if (now.length === 1 && now[0] === groups.isolationGroupId) {
      isolated.push(id);
      continue;
    }
    await ctx.recordChange({
      resource: id,
      attribute: 'groups',
      before: originalGroups(now, planned.find((p) => p.id === id)?.groups, groups),
      after: [groups.isolationGroupId],
      reversible: true,
    });
    await setEniGroups(c, id, [groups.convertGroupId]);
    await setEniGroups(c, id, [groups.isolationGroupId]);
    isolated.push(id);
  }
  if (unplanned.length) {
    // Everything else is isolated by now; fail so the responder re-runs and the plan gets their VPC's groups.
    throw new RemoteError(
      `${instanceId} has interfaces attached after planning in a VPC without isolation groups: ${unplanned.join(', ')}; capture again to isolate them`,
      false,
    );
  }
  return { outputs: { isolated, contained: await containedLines(ctx, instanceId, isolated) }, limitations };
}

/**
 * What the sitrep says is contained, in a responder's words: the host with its Name tag, which
 * interfaces, and who may still reach it (the isolation group admits only the forensic CIDRs).
 */
async function containedLines(
  ctx: Ec2StepContext<'isolate'>,
  instanceId: string,
  isolated: string[],
): Promise<string[]> {
  if (!isolated.length) return [];
  // Read ahead with the fleet at collect; read again only when that read is old.
  const instance = (await ec2FleetFor(ctx).instance(instanceId)).value;
  const name = instance?.Tags?.find((t) => t.Key === 'Name')?.Value;
  const cidrs = ctx.kase.forensicCidrs;
  const reach = cidrs.length
    ? `only ${cidrs.join(', ')} may still reach it`
    : 'nothing may reach it (no forensic CIDR)';
  const interfaces =
    isolated.length === 1 ? `its interface ${isolated[0]}` : `its ${isolated.length} interfaces ${isolated.join(', ')}`;
  return [`${instanceId}${name ? ` (${name})` : ''}: cut off on ${interfaces}; ${reach}`];
}

/**
 * The groups release should restore. An ENI already on one of our groups was caught between the two
 * swaps by an earlier, interrupted run: its original groups are the journal's (the engine keeps the
 * first recorded `before`), else discovery's, else unknown (null; release then leaves it isolated).
 */
function originalGroups(
  now: string[],
  discovered: string[] | undefined,
  ours: { convertGroupId: string; isolationGroupId: string },
): string[] | null {
  const isOurs = (g: string) => g === ours.convertGroupId || g === ours.isolationGroupId;
  if (!now.some(isOurs)) return now;
  return discovered && !discovered.some(isOurs) ? discovered : null;
}
