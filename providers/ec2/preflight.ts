/**
 * Dry-run proof for each EC2 step: EC2 calls are sent with DryRun (DryRunOperation = allowed,
 * UnauthorizedOperation = missing); Auto Scaling and ELB have no DryRun, so they get read checks.
 */
import { isAccessDenied } from '../../src/aws/errors.js';
import type { PreflightResult, ProviderContext } from '../../src/core/types.js';
import {
  consoleScreenshot,
  copySnapshot,
  createInstanceSnapshots,
  createTags,
  dryRunCalls,
  dryRunProbe,
  readChecks,
  setEniGroups,
  setInstanceAttribute,
  ssmManagedInstances,
  listSnapshotBlocks,
  lockSnapshot,
  shareSnapshot,
  type Ec2Clients,
} from './client.js';
import { uncheckableDetail } from './ebs-direct-failure.js';
import { EC2_POLICY, ec2ClientsFor } from './context.js';
import type { Ec2Actions, Ec2Step } from './steps.js';

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
    // An answer that is no AWS answer proves nothing about the permission: say what it was.
    return {
      action,
      allowed: isAccessDenied(error) ? false : 'unknown',
      detail: uncheckableDetail(error) ?? (error as Error).name ?? '',
      policyFile: EC2_POLICY,
    };
  }
}

/** The probes of each action, given its narrowed step. */
type ChecksByAction = { [A in keyof Ec2Actions]: (c: Ec2Clients, step: Ec2Step<A>) => Promise<Check>[] };

const CHECKS: ChecksByAction = {
  tag: (c, s) => [
    probe('ec2:CreateTags', () => createTags(c, [s.inputs.instanceId], { 'holdfast:incident': 'dry-run' }, true)),
  ],
  protect: (c, s) => [
    probe('ec2:ModifyInstanceAttribute', () =>
      setInstanceAttribute(c, s.inputs.instanceId, 'disableApiTermination', true, true),
    ),
  ],
  standby: (c) => [readChecks(c).then((r) => readCheck('autoscaling:EnterStandby', r.autoscaling))],
  describe: (c, s) => [
    probe('ec2:DescribeInstances', () => dryRunCalls.describeInstance(c, s.inputs.instanceId)),
    probe('ec2:GetConsoleScreenshot', () => consoleScreenshot(c, s.inputs.instanceId, true)),
  ],
  snapshot: (c, s) => {
    const { instanceId, lockDays } = s.inputs;
    return [
      probe('ec2:CreateSnapshots', () =>
        createInstanceSnapshots(c, instanceId, 'dry run', { 'holdfast:incident': 'dry-run' }, true),
      ),
      // The snapshots do not exist yet: the probe names a placeholder, so AWS may answer NotFound ('unknown').
      ...(lockDays ? [probe('ec2:LockSnapshot', () => lockSnapshot(c, PLACEHOLDER_SNAPSHOT, lockDays, true))] : []),
    ];
  },
  deregister: (c) => [readChecks(c).then((r) => readCheck('elasticloadbalancing:DeregisterTargets', r.elb))],
  'isolation-group': (c, s) => [
    probe('ec2:CreateSecurityGroup', () => dryRunCalls.createSecurityGroup(c, s.inputs.vpcId)),
  ],
  isolate: (c, s) => {
    const enis = s.inputs.enis.filter((e) => !e.requesterManaged);
    return enis.map((e) => probe('ec2:ModifyNetworkInterfaceAttribute', () => setEniGroups(c, e.id, e.groups, true)));
  },
  settle: (c, s) => {
    const { copyToAccount, kmsKey, region } = s.inputs;
    return copyToAccount && kmsKey
      ? [
          probe('ec2:CopySnapshot', () => copySnapshot(c, PLACEHOLDER_SNAPSHOT, region, kmsKey, {}, true)),
          probe('ec2:ModifySnapshotAttribute', () => shareSnapshot(c, PLACEHOLDER_SNAPSHOT, copyToAccount, true)),
        ]
      : [];
  },
  // The EBS direct APIs have no DryRun: a read of a placeholder shows only an outright denial.
  // SSM Run Command has no dry run: reading the instance's SSM registration shows only an outright denial.
  memory: (c, s) => [
    readCheck('ssm:SendCommand', async () => {
      await ssmManagedInstances(c, [s.inputs.instanceId]);
    }),
  ],
  // Reads of the evidence store only (its own preflight covers them).
  'memory-image': () => [],
  'hash-snapshots': (c) => [
    readCheck('ebs:ListSnapshotBlocks', async () => {
      await listSnapshotBlocks(c, PLACEHOLDER_SNAPSHOT);
    }),
  ],
};

/** Preflight one EC2 step. */
export async function preflightEc2<A extends keyof Ec2Actions>(
  step: Ec2Step<A>,
  ctx: ProviderContext,
): Promise<PreflightResult> {
  const c = ec2ClientsFor(ctx);
  // A saved plan is JSON: an action this provider does not know has nothing to probe.
  const checksOf: ChecksByAction[A] | undefined = Object.hasOwn(CHECKS, step.action) ? CHECKS[step.action] : undefined;
  const checks = await Promise.all(checksOf?.(c, step) ?? []);
  return { stepId: step.id, ok: checks.every((ch) => ch.allowed !== false), checks };
}
