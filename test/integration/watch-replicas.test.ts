/**
 * Two watch replicas on one queue and one store, each with its own state directory, sharing only the
 * servers: SQS (moto) for the findings, Kubernetes Lease objects on the real kube-apiserver for the
 * per-incident leases. 30 findings over 10 instances, with repeats and updates → exactly 10
 * incidents, each sealed once, no instance snapshotted twice.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { checkJournalChain } from '../../src/evidence/journal.js';
import { createKubeLeaseApi, createQueueApi } from '../../src/watch/client.js';
import { watchQueues } from '../../src/watch/daemon.js';
import { incidentFor } from '../../src/watch/incident-for.js';
import { IncidentLeases } from '../../src/watch/lease.js';
import { parseWatchRules } from '../../src/watch/rules.js';
import { clientDefaults, motoEnv } from '../support/aws.js';
import { incidentSnapshots, motoEc2, seedFleet } from '../support/fleet.js';
import { ok, useKubeServer } from '../support/kubernetes.js';

const kube = useKubeServer();
const ACCOUNT = '123456789012';
const config = () => ({
  endpoint: inject('motoEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
});
const fixture = () =>
  JSON.parse(readFileSync(new URL('../unit/fixtures/watch/guardduty-ec2.eventbridge.json', import.meta.url), 'utf8'));

describe('two watch replicas', () => {
  it('30 findings over 10 instances: exactly 10 incidents, each sealed once, no instance snapshotted twice', async () => {
    const suffix = randomBytes(3).toString('hex');
    const ec2 = motoEc2(inject('motoEndpoint'));
    const fleet = await seedFleet(ec2, `replicas-${suffix}`, 10, 1);
    const sqs = new SQSClient(config());
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `replicas-${suffix}-dlq` }))).QueueUrl!;
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn!;
    const queue = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: `replicas-${suffix}`,
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 10 }) },
        }),
      )
    ).QueueUrl!;
    // Three findings per instance: the finding, the same finding updated, and another finding.
    const bodies = fleet.instanceIds.flatMap((instanceId, i) =>
      [0, 1, 2].map((k) => {
        const event = fixture();
        event.detail.id = `gd-${suffix}-${i}-${k === 2 ? 'b' : 'a'}`;
        event.detail.updatedAt = `2026-12-07T22:0${k}:00.000Z`;
        event.detail.resource.instanceDetails.instanceId = instanceId;
        return JSON.stringify(event);
      }),
    );
    for (let i = 0; i < bodies.length; i += 10)
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queue,
          Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: `m${i + j}`, MessageBody })),
        }),
      );

    const ns = `watch-${suffix}`;
    await ok(kube(), 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
    const kubeconfig = kube().kubeconfigPath('admin');
    const rules = parseWatchRules({
      accounts: [ACCOUNT],
      forensicCidrs: ['203.0.113.7/32'],
      rules: [{ match: { source: 'guardduty' }, action: 'contain' }],
    });
    const root = mkdtempSync(join(tmpdir(), 'hf-replicas-'));
    const store = join(root, 'store');
    const replica = async (name: string) =>
      watchQueues({
        queues: [queue],
        queueApi: createQueueApi({ ...config(), ...clientDefaults() }),
        rules,
        store,
        stateDir: join(root, name),
        env: motoEnv(),
        once: true,
        visibilitySeconds: 30,
        leases: new IncidentLeases(await createKubeLeaseApi({ namespace: ns, kubeconfig }), name, 15),
      });
    const [a, b] = await Promise.all([replica('replica-a'), replica('replica-b')]);

    const expected = fleet.instanceIds
      .map((instanceId) => incidentFor({ kind: 'ec2-instance', account: ACCOUNT, region: 'us-east-1', instanceId }))
      .sort();
    expect([...new Set([...a.incidents, ...b.incidents])].sort()).toEqual(expected);
    // Every message removed once; a finding whose incident the other replica held came back later (busy).
    expect(a.removed + b.removed).toBe(30);
    expect(a.findings + b.findings).toBeGreaterThanOrEqual(30);
    // Both replicas did work (the queue was shared, not drained by one).
    expect(a.messages).toBeGreaterThan(0);
    expect(b.messages).toBeGreaterThan(0);
    for (const incident of expected) {
      expect(await incidentSnapshots(ec2, incident), incident).toHaveLength(1);
      // Sealed once: one capture.sealed in the store's newest journal copy.
      const copies = readdirSync(join(store, incident, 'journal')).sort();
      const events = checkJournalChain(readFileSync(join(store, incident, 'journal', copies.at(-1)!), 'utf8')).events;
      expect(
        events.filter((e) => e.type === 'capture.sealed'),
        incident,
      ).toHaveLength(1);
      expect(events.find((e) => e.type === 'capture.started')).toMatchObject({
        lease: { generation: expect.any(Number) },
      });
    }
  }, 300_000);
});
