/** Contain: leave unmanaged target groups, find/create isolation groups per VPC, swap every ENI through convert to isolation. */
import { RemoteError } from '../../src/errors.js';
import { runIsolationGroupStep } from '../../src/isolation-group.js';
import type { StepContext, StepOutcome } from '../../src/types.js';
import { deregisterTarget, describeEnis, securityGroupApi, setEniGroups } from './client.js';
import { ec2ClientsFor } from './context.js';
import type { EniFacts } from './facts.js';

export async function runDeregister(ctx: StepContext): Promise<StepOutcome> {
  const c = ec2ClientsFor(ctx);
  const { instanceId, registrations } = ctx.step.inputs as { instanceId: string; registrations: { targetGroupArn: string; port?: number }[] };
  for (const r of registrations) {
    ctx.recordChange({ resource: r.targetGroupArn, attribute: `target:${instanceId}:${r.port ?? ''}`, before: 'registered', after: 'deregistered', reversible: true });
    await deregisterTarget(c, r.targetGroupArn, instanceId, r.port);
  }
  return {};
}

export async function runIsolationGroup(ctx: StepContext): Promise<StepOutcome> {
  return runIsolationGroupStep(securityGroupApi(ec2ClientsFor(ctx)), ctx);
}

/** Record each ENI's groups, then swap: convert group first (untracks flows), isolation group at once after. */
export async function runIsolate(ctx: StepContext): Promise<StepOutcome> {
  const c = ec2ClientsFor(ctx);
  const { instanceId, enis } = ctx.step.inputs as unknown as { instanceId: string; enis: EniFacts[] };
  const limitations: string[] = [];
  const current = new Map((await describeEnis(c, enis.map((e) => e.id))).map((e) => [e.NetworkInterfaceId!, (e.Groups ?? []).map((g) => g.GroupId!).sort()]));
  const isolated: string[] = [];
  for (const eni of enis) {
    if (eni.requesterManaged) {
      limitations.push(`${eni.id} on ${instanceId} is requester-managed and was not re-grouped`);
      continue;
    }
    const groups = ctx.outputOf(`ec2:isolation-group/${eni.vpcId}`) as { convertGroupId: string; isolationGroupId: string } | undefined;
    if (!groups) throw new RemoteError(`no isolation group for ${eni.vpcId}`, false);
    const now = current.get(eni.id);
    if (!now) throw new RemoteError(`${eni.id} is no longer attached to ${instanceId}`, false);
    if (now.length === 1 && now[0] === groups.isolationGroupId) {
      isolated.push(eni.id);
      continue;
    }
    ctx.recordChange({ resource: eni.id, attribute: 'groups', before: now, after: [groups.isolationGroupId], reversible: true });
    await setEniGroups(c, eni.id, [groups.convertGroupId]);
    await setEniGroups(c, eni.id, [groups.isolationGroupId]);
    isolated.push(eni.id);
  }
  return { outputs: { isolated }, limitations };
}
