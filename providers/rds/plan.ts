/** Pure: RDS facts → steps; containment of a database waits for any dump of it (relate). */
import { forensicAccessDecision } from '../../src/core/cidr.js';
import type { Case, Step, StepDraft } from '../../src/core/types.js';
import type { RdsFacts } from './facts.js';
import { rdsSnapshotIdentifier } from './snapshot-id.js';
import type { RdsStep } from './steps.js';

export function planRds(facts: RdsFacts, kase: Case): { steps: StepDraft<RdsStep>[]; limitations: string[] } {
  const steps: StepDraft<RdsStep>[] = [];
  const limitations = [...facts.notes];
  for (const db of facts.databases) {
    const key = `${db.kind}/${db.id}`;
    const target = `rds:${key}`;
    const snapshotId = rdsSnapshotIdentifier(kase.incident, `${db.kind === 'cluster' ? 'cluster' : 'db'}-${db.id}`);
    const pendingKeys = Object.keys(db.pendingModifiedValues);
    steps.push(
      {
        id: `protect/${key}`,
        action: 'protect',
        phase: 'preserve',
        target,
        title: `tag ${db.id} and turn on deletion protection${db.kind === 'cluster' ? ' (on the cluster)' : ''}`,
        inputs: { kind: db.kind, id: db.id, arn: db.arn, deletionProtection: db.deletionProtection },
      },
      {
        id: `snapshot/${key}`,
        action: 'snapshot',
        phase: 'collect',
        target,
        title: `${db.kind === 'cluster' ? 'cluster snapshot' : 'snapshot'} ${snapshotId} of ${db.id}`,
        inputs: { kind: db.kind, id: db.id, snapshotId, region: facts.region, engine: db.engine, members: db.members },
      },
      ...(db.vpcId
        ? [
            {
              id: `isolate/${key}`,
              action: 'isolate' as const,
              phase: 'contain' as const,
              target,
              title: `swap ${db.id}'s VPC security groups to the isolation group`,
              inputs: {
                kind: db.kind,
                id: db.id,
                vpcId: db.vpcId,
                endpoint: db.endpoint,
                pendingModifiedValues: db.pendingModifiedValues,
                approvePending: facts.params.approvePending,
              },
              dependsOn: [`isolation-group/${db.vpcId}`],
            },
          ]
        : []),
      {
        id: `settle/${key}`,
        action: 'settle',
        phase: 'settle',
        target,
        title: `wait for snapshot ${snapshotId} to be available`,
        inputs: { kind: db.kind, id: db.id, snapshotId },
      },
    );
    if (pendingKeys.length && !facts.params.approvePending) {
      limitations.push(
        `${db.id} has pending modifications (${pendingKeys.join(', ')}): isolation would apply them at once, so it waits for --approve-pending`,
      );
    }
  }
  for (const vpcId of [...new Set(facts.databases.map((d) => d.vpcId).filter(Boolean))].sort()) {
    steps.push({
      id: `isolation-group/${vpcId}`,
      action: 'isolation-group',
      phase: 'contain',
      target: `rds:vpc:${vpcId}`,
      title: `find or create the isolation groups in ${vpcId}`,
      inputs: { vpcId },
    });
  }
  if (steps.some((s) => s.action === 'isolation-group'))
    limitations.push(...forensicAccessDecision(kase, 'the isolation groups'));
  limitations.push(
    'an isolated database still answers on connections its clients already hold until they close; RDS does not cut established sessions',
  );
  return { steps, limitations };
}

/** Containment of a database waits for every dump taken from its endpoint (the forensic host may not be admitted afterwards). */
export function relateRds(steps: readonly Step[]): Record<string, string[]> {
  const relations: Record<string, string[]> = {};
  for (const s of steps) {
    if (s.provider !== 'rds' || s.action !== 'isolate') continue;
    const endpoint = s.inputs.endpoint;
    // Another provider's step: only its host is compared, as the plan recorded it.
    const dumps = steps.filter((d) => d.provider === 'dump' && endpoint && d.inputs.host === endpoint).map((d) => d.id);
    if (dumps.length) relations[s.id] = dumps;
  }
  return relations;
}
