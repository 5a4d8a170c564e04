/** Pure: EC2 facts → steps. No I/O, no clock. */
import type { MachineIdentityFinding } from '../../src/core/claims.js';
import { forensicAccessDecision } from '../../src/core/cidr.js';
import type { Case, StepDraft } from '../../src/core/types.js';
import type { Ec2Facts, InstanceFacts } from './facts.js';
import { memorySteps } from './plan-memory.js';
import type { Ec2Step } from './steps.js';

/** What security-group isolation cannot do, for the manifest. */
export const EC2_LIMITATIONS = [
  'security groups do not cut every flow at once: ICMP and flows through NAT gateways, Network Load Balancers and PrivateLink stay tracked until they go idle',
  'security groups do not block the VPC DNS resolver (169.254.169.253 / .2) or the instance metadata service (169.254.169.254)',
];

/** What a memory acquisition through SSM cannot promise, for the manifest. */
export const MEMORY_LIMITATIONS = [
  "memory acquisition holds up the instance's isolation (at most the memory timeout); no acquisition group narrows its network meanwhile",
  "the presigned URLs for a memory image travel in the SSM command's parameters: anyone allowed ssm:ListCommands in the account can read them until they expire",
];

/** Why stop protection cannot be set, or undefined when it can. */
export function stopProtectionBlocker(i: InstanceFacts): string | undefined {
  if (i.spot) return `${i.instanceId} is a Spot instance: stop protection is not supported (AWS); recorded, not set`;
  if (i.rootDeviceType === 'instance-store')
    return `${i.instanceId} has an instance-store root: stop protection is not supported (AWS); recorded, not set`;
  return undefined;
}

function target(i: InstanceFacts): string {
  return `ec2:${i.instanceId}`;
}

/** The incident this capture joined that holds `i` (discovery refused any other hold). */
function joinedHold(i: InstanceFacts, kase: Case): string | undefined {
  return i.heldBy && i.heldBy.incident === kase.join ? i.heldBy.incident : undefined;
}

/** A joined instance: its configuration recorded, nothing of the holding incident's work touched. */
function joinedSteps(i: InstanceFacts, facts: Ec2Facts): StepDraft<Ec2Step>[] {
  return [
    {
      id: `describe/${i.instanceId}`,
      action: 'describe',
      phase: 'collect',
      target: target(i),
      title: `record ${i.instanceId}'s configuration and console output (held by ${i.heldBy!.incident}, joined)`,
      inputs: { instanceId: i.instanceId, region: facts.region, facts: i },
    },
  ];
}

function instanceSteps(i: InstanceFacts, facts: Ec2Facts, kase: Case, limitations: string[]): StepDraft<Ec2Step>[] {
  if (joinedHold(i, kase)) return joinedSteps(i, facts);
  const t = target(i);
  const id = i.instanceId;
  const steps: StepDraft<Ec2Step>[] = [
    {
      id: `tag/${id}`,
      action: 'tag',
      phase: 'preserve',
      target: t,
      title: `tag ${id}, its volumes and interfaces as evidence`,
      inputs: {
        instanceId: id,
        resources: [id, ...i.volumes.map((v) => v.id), ...i.enis.map((e) => e.id)],
        ...(i.holdfastTags ? { observed: i.holdfastTags } : {}),
      },
    },
    {
      id: `protect/${id}`,
      action: 'protect',
      phase: 'preserve',
      target: t,
      title: `protect ${id} from termination and stop; keep volumes on termination`,
      inputs: {
        instanceId: id,
        stopProtectionBlocker: stopProtectionBlocker(i) ?? null,
        volumes: i.volumes.map((v) => ({ id: v.id, device: v.device })),
      },
    },
  ];
  if (i.autoScaling && i.autoScaling.lifecycleState.startsWith('InService')) {
    steps.push({
      id: `standby/${id}`,
      action: 'standby',
      phase: 'preserve',
      target: t,
      title: `move ${id} to Standby in ${i.autoScaling.group} (no scale-in, no health-check replacement)`,
      inputs: { instanceId: id, group: i.autoScaling.group },
    });
  }
  steps.push(
    {
      id: `describe/${id}`,
      action: 'describe',
      phase: 'collect',
      target: t,
      title: `record ${id}'s configuration, console output and console screenshot`,
      inputs: { instanceId: id, region: facts.region, facts: i },
    },
    {
      id: `snapshot/${id}`,
      action: 'snapshot',
      phase: 'collect',
      target: t,
      title: `snapshot all ${i.volumes.length} volumes of ${id} as one crash-consistent set${facts.params.lockSnapshotsDays ? ` and lock it for ${facts.params.lockSnapshotsDays} days` : ''}`,
      inputs: {
        instanceId: id,
        volumes: i.volumes.map((v) => v.id),
        region: facts.region,
        lockDays: facts.params.lockSnapshotsDays,
      },
    },
  );
  // Memory in collect: this instance's containment (a later phase) waits for it, and it never fails.
  const memory = memorySteps(i, facts, kase);
  steps.push(...memory.steps);
  limitations.push(...memory.limitations);
  // Groups the ASG manages were left by Standby; the others still send traffic and health checks.
  const unmanaged = i.registrations.filter((r) => !i.autoScaling?.targetGroupArns.includes(r.targetGroupArn));
  const containDeps: string[] = [];
  if (unmanaged.length) {
    steps.push({
      id: `deregister/${id}`,
      action: 'deregister',
      phase: 'contain',
      target: t,
      title: `take ${id} out of ${unmanaged.length} target group(s) its Auto Scaling group does not manage`,
      inputs: { instanceId: id, registrations: unmanaged },
    });
    containDeps.push(`deregister/${id}`);
  }
  const vpcs = [...new Set(i.enis.filter((e) => !e.requesterManaged).map((e) => e.vpcId))].sort();
  steps.push({
    id: `isolate/${id}`,
    action: 'isolate',
    phase: 'contain',
    target: t,
    title: `isolate every interface of ${id} (convert group, then isolation group)`,
    inputs: { instanceId: id, enis: i.enis },
    dependsOn: [...containDeps, ...vpcs.map((v) => `isolation-group/${v}`)],
  });
  steps.push({
    id: `settle/${id}`,
    action: 'settle',
    phase: 'settle',
    target: t,
    title: `wait for ${id}'s snapshots${facts.params.copyToAccount ? `, copy them under the forensic key${facts.params.lockSnapshotsDays ? ', lock the copies' : ''} and share them` : ''}`,
    inputs: {
      instanceId: id,
      snapshotStep: `ec2:snapshot/${id}`,
      region: facts.region,
      lockDays: facts.params.lockSnapshotsDays,
      copyToAccount: facts.params.copyToAccount,
      kmsKey: facts.params.kmsKey,
    },
  });
  if (facts.params.hashSnapshots) {
    // After settle (so after this target's containment): reading a volume image can take hours.
    steps.push({
      id: `hash-snapshots/${id}`,
      action: 'hash-snapshots',
      phase: 'settle',
      target: t,
      title: `hash the volume image of each of ${id}'s snapshots through the EBS direct APIs`,
      inputs: { instanceId: id, snapshotStep: `ec2:snapshot/${id}`, region: facts.region },
      dependsOn: [`settle/${id}`],
    });
  }
  return steps;
}

/** Plan every instance, plus one isolation-group step per VPC. */
export function planEc2(facts: Ec2Facts, kase: Case): { steps: StepDraft<Ec2Step>[]; limitations: string[] } {
  const memoryLimitations: string[] = [];
  const steps = facts.instances.flatMap((i) => instanceSteps(i, facts, kase, memoryLimitations));
  const contained = facts.instances.filter((i) => !joinedHold(i, kase));
  const vpcs = [
    ...new Set(contained.flatMap((i) => i.enis.filter((e) => !e.requesterManaged).map((e) => e.vpcId))),
  ].sort();
  for (const vpcId of vpcs) {
    steps.push({
      id: `isolation-group/${vpcId}`,
      action: 'isolation-group',
      phase: 'contain',
      target: `ec2:vpc:${vpcId}`,
      title: `find or create the convert and isolation groups in ${vpcId}`,
      inputs: { vpcId },
    });
  }
  const limitations = [...EC2_LIMITATIONS];
  for (const i of facts.instances) {
    const held = joinedHold(i, kase);
    if (held)
      limitations.push(
        `${i.instanceId} is held by open incident ${held} (${i.heldBy!.evidence.join('; ')}); joined: this incident records its configuration only and leaves ${held}'s tags, snapshots and isolation as they are`,
      );
  }
  for (const i of contained) {
    const blocker = stopProtectionBlocker(i);
    if (blocker) limitations.push(blocker);
    for (const e of i.enis.filter((x) => x.requesterManaged)) {
      limitations.push(
        `${e.id} on ${i.instanceId} is managed by another AWS service and cannot be re-grouped; isolate it through that service`,
      );
    }
  }
  if (vpcs.length) limitations.push(...forensicAccessDecision(kase, 'the isolation groups'));
  limitations.push(...memoryLimitations);
  if (steps.some((s) => s.action === 'memory')) limitations.push(...MEMORY_LIMITATIONS);
  return { steps, limitations };
}

/**
 * Pure: each targeted instance's profile, as a finding: the provider that owns such identities
 * (`iam`) records the role and decides (by severity and --revoke-role-sessions) whether to revoke
 * its sessions.
 */
export function ec2Findings(facts: Ec2Facts): MachineIdentityFinding[] {
  // A held instance (discovery refused it unless joined) is the holding incident's: its role too.
  return facts.instances.flatMap((i) =>
    i.instanceProfile && !i.heldBy
      ? [{ kind: 'machine-identity' as const, machine: i.instanceId, identity: i.instanceProfile }]
      : [],
  );
}
