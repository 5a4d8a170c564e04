/**
 * `evidence watch`'s loop against moto: findings arrive through EventBridge (a rule targeting the
 * queue) and straight into SQS; each affected instance becomes one sealed incident, repeats join it,
 * unreadable messages go to the dead-letter queue through the queue's redrive policy, and sample
 * findings are ignored with a reason.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, inject, it } from 'vitest';
import { createFsStore, verifyEvidence } from '../../src/index.js';
import { createQueueApi } from '../../src/watch/client.js';
import { watchQueues } from '../../src/watch/daemon.js';
import { incidentFor } from '../../src/watch/incident-for.js';
import { parseWatchRules } from '../../src/watch/rules.js';
import { WatchMetrics } from '../../src/watch/metrics.js';
import { clientDefaults, motoEnv } from '../support/aws.js';
import { incidentSnapshots, motoEc2, seedFleet } from '../support/fleet.js';

const ACCOUNT = '123456789012';
const config = () => ({
  endpoint: inject('motoEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
});
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../unit/fixtures/watch/${name}`, import.meta.url), 'utf8')) as Record<string, any>;

/** A findings queue with a dead-letter queue (maxReceiveCount 2), as the README tells operators to make it. */
async function queuesWithDlq(sqs: SQSClient, name: string) {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  const queue = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          MaximumMessageSize: '1048576',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
        },
      }),
    )
  ).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  return { queue, queueArn, dlq };
}

async function drain(sqs: SQSClient, url: string): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < 5; i++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!out.Messages?.length) break;
    bodies.push(...out.Messages.map((m) => m.Body ?? ''));
  }
  return bodies;
}

function guardDutyFor(instanceId: string, id: string, updatedAt: string, sample = false) {
  const event = fixture('guardduty-ec2.eventbridge.json');
  const detail = event.detail;
  detail.id = id;
  detail.updatedAt = updatedAt;
  detail.resource.instanceDetails.instanceId = instanceId;
  if (sample) detail.service.additionalInfo.sample = true;
  return detail;
}

/** A webhook receiver on loopback: every JSON body it is sent. */
async function receiver() {
  const bodies: Record<string, any>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return { url, bodies, close: () => new Promise((r) => server.close(r)) };
}

describe('evidence watch (library loop against moto)', () => {
  it('findings through EventBridge and SQS: one sealed incident per instance, repeats join, bad messages to the DLQ, samples ignored', async () => {
    const suffix = randomBytes(4).toString('hex');
    const sqs = new SQSClient(config());
    const eb = new EventBridgeClient(config());
    const ec2 = motoEc2(inject('motoEndpoint'));
    const fleet = await seedFleet(ec2, `watch-${suffix}`, 2, 1);
    const [a, b] = fleet.instanceIds as [string, string];
    const { queue, queueArn, dlq } = await queuesWithDlq(sqs, `findings-${suffix}`);

    // GuardDuty → EventBridge → rule → SQS: the body SQS delivers is the whole event.
    const rule = `holdfast-${suffix}`;
    await eb.send(
      new PutRuleCommand({
        Name: rule,
        EventPattern: JSON.stringify({ source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'] }),
      }),
    );
    await eb.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: 'watch', Arn: queueArn }] }));
    const put = await eb.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'aws.guardduty',
            DetailType: 'GuardDuty Finding',
            Detail: JSON.stringify(guardDutyFor(a, `gd-${suffix}-1`, '2026-12-07T22:00:00.000Z')),
          },
          // The same finding re-published with a later updatedAt, and another finding about the same instance.
          {
            Source: 'aws.guardduty',
            DetailType: 'GuardDuty Finding',
            Detail: JSON.stringify(guardDutyFor(a, `gd-${suffix}-1`, '2026-12-07T22:05:00.000Z')),
          },
          {
            Source: 'aws.guardduty',
            DetailType: 'GuardDuty Finding',
            Detail: JSON.stringify(guardDutyFor(a, `gd-${suffix}-2`, '2026-12-07T22:06:00.000Z')),
          },
          // A sample finding about instance B: never acted on.
          {
            Source: 'aws.guardduty',
            DetailType: 'GuardDuty Finding',
            Detail: JSON.stringify(guardDutyFor(b, `gd-${suffix}-3`, '2026-12-07T22:07:00.000Z', true)),
          },
        ],
      }),
    );
    expect(put.FailedEntryCount ?? 0).toBe(0);
    // Security Hub ASFF about instance B, straight into the queue.
    const sh = fixture('securityhub-imported.eventbridge.json');
    sh.detail.findings[0].Resources[0].Id = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${b}`;
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: JSON.stringify(sh) }));
    // Unreadable: not JSON, unknown source, oversized.
    for (const body of [
      '{"detail":',
      JSON.stringify({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' }),
      JSON.stringify({ pad: 'x'.repeat(300_000) }),
    ])
      await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: body }));

    const slack = await receiver();
    const generic = await receiver();
    const dir = mkdtempSync(join(tmpdir(), 'hf-watch-'));
    const logs: Record<string, unknown>[] = [];
    const metrics = new WatchMetrics();
    const summary = await watchQueues({
      queues: [queue],
      queueApi: createQueueApi({ ...config(), ...clientDefaults() }),
      rules: parseWatchRules({
        accounts: [ACCOUNT],
        forensicCidrs: ['203.0.113.7/32'],
        commander: 'Dana Reyes',
        responders: ['Sam Okafor'],
        rules: [
          { match: { source: 'guardduty', type: 'UnauthorizedAccess:EC2/*', minSeverity: 7 }, action: 'contain' },
          { match: { source: 'securityhub', tags: { Environment: 'prod' } }, action: 'contain' },
        ],
      }),
      store: join(dir, 'store'),
      stateDir: join(dir, 'state'),
      env: motoEnv(),
      once: true,
      visibilitySeconds: 30,
      log: (line) => logs.push(line),
      metrics,
      webhooks: [{ url: slack.url, format: 'slack' }, { url: generic.url }],
    });
    await Promise.all([slack.close(), generic.close()]);

    const incidentA = incidentFor({ kind: 'ec2-instance', account: ACCOUNT, region: 'us-east-1', instanceId: a });
    const incidentB = incidentFor({ kind: 'ec2-instance', account: ACCOUNT, region: 'us-east-1', instanceId: b });
    expect(summary.incidents).toEqual([incidentA, incidentB].sort());
    const findings = logs.filter((l) => l.msg === 'finding');
    expect(findings.filter((l) => l.incident === incidentA && l.decision === 'contain')).toHaveLength(3);
    // Sealed once: the first capture seals, the repeats find it sealed and run nothing.
    const sealedA = findings.filter((l) => l.incident === incidentA && l.status === 'complete');
    expect(sealedA.map((l) => l.alreadySealed)).toEqual([false, true, true]);
    expect(findings.find((l) => l.findingId === `gd-${suffix}-3`)).toMatchObject({
      decision: 'ignore',
      reason: 'a sample finding (never acted on)',
    });
    expect(findings.find((l) => l.source === 'securityhub')).toMatchObject({
      incident: incidentB,
      decision: 'contain',
      status: 'complete',
    });
    // Each instance's volume snapshotted once.
    expect(await incidentSnapshots(ec2, incidentA)).toHaveLength(1);
    expect(await incidentSnapshots(ec2, incidentB)).toHaveLength(1);
    const store = createFsStore(join(dir, 'store'));
    expect((await verifyEvidence(store, incidentA)).ok).toBe(true);
    // Refused messages: logged with their reason on every receive, then moved by the redrive policy.
    const refused = logs.filter((l) => l.msg === 'finding refused').map((l) => l.reason);
    expect(new Set(refused)).toEqual(new Set(['malformed', 'unknown-source', 'oversized']));
    const dead = await drain(sqs, dlq);
    expect(dead).toHaveLength(3);
    expect(await drain(sqs, queue)).toEqual([]);
    expect(metrics.value('holdfast_watch_findings_total', { source: 'guardduty', decision: 'contain' })).toBe(3);
    expect(metrics.value('holdfast_watch_findings_total', { source: 'guardduty', decision: 'ignore' })).toBe(1);
    expect(metrics.render()).toMatch(/holdfast_watch_finding_to_containment_seconds_count [1-9]/);
    // People heard: each capture's start and phases and one sitrep per sealed incident, in both shapes.
    const sitreps = generic.bodies.filter((b) => b.type === 'sitrep');
    expect(sitreps.map((b) => b.incident).sort()).toEqual([incidentA, incidentB].sort());
    expect(generic.bodies.filter((b) => b.type === 'capture.started')).toHaveLength(2);
    expect(sitreps[0]!.markdown).toMatch(/Dana Reyes/);
    expect(slack.bodies.length).toBe(generic.bodies.length);
    expect(slack.bodies.every((b) => typeof b.text === 'string' && Array.isArray(b.blocks))).toBe(true);
    expect(slack.bodies.some((b) => b.text.includes(incidentA) && /Dana Reyes/.test(JSON.stringify(b.blocks)))).toBe(
      true,
    );
  }, 180_000);

  it('refuses a queue without a dead-letter queue before receiving anything', async () => {
    const sqs = new SQSClient(config());
    const queue = (await sqs.send(new CreateQueueCommand({ QueueName: `no-dlq-${randomBytes(4).toString('hex')}` })))
      .QueueUrl!;
    await expect(
      watchQueues({
        queues: [queue],
        queueApi: createQueueApi({ ...config(), ...clientDefaults() }),
        rules: parseWatchRules({ accounts: [ACCOUNT], rules: [{ action: 'ignore' }] }),
        store: mkdtempSync(join(tmpdir(), 'hf-watch-')),
        once: true,
      }),
    ).rejects.toThrow(/has no RedrivePolicy/);
  });
});
