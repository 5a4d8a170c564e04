/**
 * Dry-run proof for each EC2 step: EC2 calls are sent with DryRun (DryRunOperation = allowed,
 * UnauthorizedOperation = missing); Auto Scaling and ELB have no DryRun, so they get read checks.
 */
import type { PreflightResult, ProviderContext, Step } from '../../src/core/types.js';
import {
  copySnapshot,
  createInstanceSnapshots,
  createTags,
  dryRunCalls,
  dryRunProbe,
  readChecks,
  setEniGroups,
  setInstanceAttribute,
  lockSnapshot,
  shareSnapshot,
  type Ec2Clients,
} from './client.js';
import { EC2_POLICY, ec2ClientsFor } from './context.js';
import type { EniFacts } from './facts.js';

type Check = PreflightResult['checks'][number];

/** A well-formed snapshot id for probes of calls on snapshots a dry run has not taken. */
const PLACEHOLDER_SNAPSHOT = 'snap-00000000000000000';

async function probe(action: string, call: () => Promise<unknown>): Promise<Check> {
  const r = await dryRunProbe(call);
  return { action, allowed: r.allowed, detail: r.detail, policyFile: EC2_POLICY };
}

async function readCheck(action: string, call: () => Promise<void>): Promise<Check> {
  try {
    await call();
    return {
      action,
      allowed: 'unknown',
      detail: 'no dry run for this service; the read-only call is allowed',
      policyFile: EC2_POLICY,
    };
  } catch (error) {
    const name = (error as Error).name ?? '';
    const denied = /AccessDenied|Unauthorized/.test(name);
    return { action, allowed: denied ? false : 'unknown', detail: name, policyFile: EC2_POLICY };
  }
}

const CHECKS: Record<string, (c: Ec2Clients, step: Step) => Promise<Check>[]> = {
  tag: (c, s) => [
    probe('ec2:CreateTags', () =>
      createTags(c, [String(s.inputs.instanceId)], { 'holdfast:incident': 'dry-run' }, true),
    ),
  ],
  protect: (c, s) => [
    probe('ec2:ModifyInstanceAttribute', () =>
      setInstanceAttribute(c, String(s.inputs.instanceId), 'disableApiTermination', true, true),
    ),
  ],
  standby: (c) => [readChecks(c).then((r) => readCheck('autoscaling:EnterStandby', r.autoscaling))],
  describe: (c, s) => [
    probe('ec2:DescribeInstances', () => dryRunCalls.describeInstance(c, String(s.inputs.instanceId))),
  ],
  snapshot: (c, s) => [
    probe('ec2:CreateSnapshots', () =>
      createInstanceSnapshots(c, String(s.inputs.instanceId), 'dry run', { 'holdfast:incident': 'dry-run' }, true),
    ),
    // The snapshots do not exist yet: the probe names a placeholder, so AWS may answer NotFound ('unknown').
    ...(s.inputs.lockDays
      ? [probe('ec2:LockSnapshot', () => lockSnapshot(c, PLACEHOLDER_SNAPSHOT, Number(s.inputs.lockDays), true))]
      : []),
  ],
  deregister: (c) => [readChecks(c).then((r) => readCheck('elasticloadbalancing:DeregisterTargets', r.elb))],
  'isolation-group': (c, s) => [
    probe('ec2:CreateSecurityGroup', () => dryRunCalls.createSecurityGroup(c, String(s.inputs.vpcId))),
  ],
  isolate: (c, s) => {
    const enis = (s.inputs.enis as unknown as EniFacts[]).filter((e) => !e.requesterManaged);
    return enis.map((e) => probe('ec2:ModifyNetworkInterfaceAttribute', () => setEniGroups(c, e.id, e.groups, true)));
  },
  settle: (c, s) => [
    ...(s.inputs.copyToAccount && s.inputs.kmsKey
      ? [
          probe('ec2:CopySnapshot', () =>
            copySnapshot(c, PLACEHOLDER_SNAPSHOT, String(s.inputs.region), String(s.inputs.kmsKey), {}, true),
          ),
          probe('ec2:ModifySnapshotAttribute', () =>
            shareSnapshot(c, PLACEHOLDER_SNAPSHOT, String(s.inputs.copyToAccount), true),
          ),
        ]
      : []),
  ],
};

/** Preflight one EC2 step. */
export async function preflightEc2(step: Step, ctx: ProviderContext): Promise<PreflightResult> {
  const c = ec2ClientsFor(ctx);
  const checks = await Promise.all(CHECKS[step.action]?.(c, step) ?? []);
  return { stepId: step.id, ok: checks.every((ch) => ch.allowed !== false), checks };
}
