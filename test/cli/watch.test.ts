/** `evidence watch` as an operator runs it: bad input named at start, --once drains and seals, SIGTERM hands over. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
import { describe, expect, inject, it } from 'vitest';
import { checkJournalChain } from '../../src/evidence/journal.js';
import { startFaultProxy } from '../../src/emulators/fault-proxy.js';
import { incidentFor } from '../../src/watch/incident-for.js';
import { motoEnv } from '../support/aws.js';
import { runCli, startCli } from '../support/cli.js';
import { incidentSnapshots, motoEc2, seedFleet } from '../support/fleet.js';

const ACCOUNT = '123456789012';
const RULES = `accounts: ["${ACCOUNT}"]
forensicCidrs: ["203.0.113.7/32"]
rules:
  - match: { source: request }
    action: contain
`;

function sqsClient() {
  return new SQSClient({
    endpoint: inject('motoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
}

async function queueWithDlq(sqs: SQSClient): Promise<string> {
  const name = `watch-cli-${randomBytes(4).toString('hex')}`;
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  return (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 3 }) },
      }),
    )
  ).QueueUrl!;
}

function captureRequest(instanceId: string) {
  return JSON.stringify({
    schema: 'holdfast/capture-request@1',
    id: `req-${randomBytes(4).toString('hex')}`,
    title: 'beaconing web host',
    severity: 8,
    resources: [{ kind: 'ec2-instance', account: ACCOUNT, region: 'us-east-1', instanceId }],
  });
}

describe('evidence watch (CLI)', () => {
  it('names every missing flag and every rules-file problem before receiving anything (exit 2)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-watch-cli-'));
    const none = await runCli(['watch'], { cwd, env: motoEnv() });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--queue is required/);
    expect(none.stderr).toMatch(/--store is required/);
    expect(none.stderr).toMatch(/--rules is required/);
    writeFileSync(join(cwd, 'rules.yaml'), 'accounts: ["123"]\nrules:\n  - action: obliterate\n');
    const bad = await runCli(
      ['watch', '--queue', `http://127.0.0.1:1/${ACCOUNT}/q`, '--store', 'es', '--rules', 'rules.yaml'],
      { cwd, env: motoEnv() },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/rules\.yaml: accounts\[0\] "123" is not a 12-digit AWS account id/);
    expect(bad.stderr).toMatch(
      /rules\.yaml: rules\[0\]\.action: expected contain, collect, notify, ignore, got "obliterate"/,
    );
  });

  it('--json: every error is one JSON line on stdout with a stable code, the field (and its flag) and the message', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-watch-cli-'));
    const watch = await runCli(['watch', '--json'], { cwd, env: motoEnv() });
    expect(watch.code).toBe(2);
    expect(watch.lines).toEqual([
      expect.objectContaining({ type: 'error', code: 'BAD_INPUT', field: 'queue', flag: '--queue' }),
    ]);
    expect(watch.lines[0]!.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'store', flag: '--store' })]),
    );
    // "instance not found" and "bucket missing" are told apart by their field.
    const env = motoEnv({ HOLDFAST_STATE_DIR: join(cwd, 'state') });
    const missing = await runCli(
      ['capture', '--incident', 'IR-JSON-1', '--instance', 'i-0123456789abcdef0', '--store', 'es', '--json'],
      { cwd, env },
    );
    expect(missing.code).toBe(2);
    expect(missing.lines.at(-1)).toMatchObject({
      type: 'error',
      code: 'BAD_INPUT',
      field: 'targets.ec2.instances[0]',
      flag: '--instance',
    });
    const real = (await seedFleet(motoEc2(inject('motoEndpoint')), randomBytes(3).toString('hex'), 1, 1))
      .instanceIds[0]!;
    const bucket = await runCli(
      [
        'capture',
        '--incident',
        'IR-JSON-2',
        '--instance',
        real,
        '--forensic-cidr',
        '203.0.113.7/32',
        '--store',
        `s3://no-such-bucket-${randomBytes(4).toString('hex')}`,
        '--json',
      ],
      { cwd, env },
    );
    expect(bucket.code).toBe(2);
    expect(bucket.lines.at(-1)!.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'store' })]),
    );
  });

  it('SIGTERM mid-capture hands the message back; another replica on the same state dir resumes and seals, one snapshot set', async () => {
    const moto = inject('motoEndpoint');
    const ec2 = motoEc2(moto);
    const fleet = await seedFleet(ec2, randomBytes(3).toString('hex'), 1, 1);
    const instanceId = fleet.instanceIds[0]!;
    const sqs = sqsClient();
    const queue = await queueWithDlq(sqs);
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: captureRequest(instanceId) }));
    const cwd = mkdtempSync(join(tmpdir(), 'hf-watch-cli-'));
    writeFileSync(join(cwd, 'rules.yaml'), RULES);
    const args = [
      'watch',
      '--queue',
      queue,
      '--rules',
      'rules.yaml',
      '--store',
      'es',
      '--once',
      '--visibility-timeout',
      '30',
    ];
    const incident = incidentFor({ kind: 'ec2-instance', account: ACCOUNT, region: 'us-east-1', instanceId });
    // Containment hangs (a black-holed interface swap): the first replica is stopped in the middle of it.
    const proxy = await startFaultProxy(moto, {
      rules: [{ fault: 'hang', service: 'ec2', action: 'ModifyNetworkInterfaceAttribute' }],
    });
    try {
      const env = motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint, HOLDFAST_STATE_DIR: join(cwd, 'state') });
      const first = startCli(args, { cwd, env });
      const deadline = Date.now() + 90_000;
      while (!proxy.calls.some((c) => c.fault === 'hang') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(proxy.calls.some((c) => c.fault === 'hang')).toBe(true);
      first.child.kill('SIGTERM');
      const stopped = await first.done;
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.lines.find((l) => l.msg === 'message returned')).toMatchObject({
        why: expect.stringMatching(/handed back/),
      });
    } finally {
      await proxy.close();
    }
    const journal = join(cwd, 'state', incident, 'journal.ndjson');
    expect(checkJournalChain(readFileSync(journal, 'utf8')).events.at(-1)?.type).toBe('capture.aborted');

    // The other replica: the message is visible again at once, the capture resumes from the journal and seals.
    const second = await runCli(args, { cwd, env: motoEnv({ HOLDFAST_STATE_DIR: join(cwd, 'state') }) });
    expect(second.code, second.stderr).toBe(0);
    expect(second.lines.find((l) => l.msg === 'finding')).toMatchObject({
      incident,
      decision: 'contain',
      status: 'complete',
    });
    expect(second.lines.find((l) => l.msg === 'message removed')).toBeTruthy();
    const events = checkJournalChain(readFileSync(journal, 'utf8')).events;
    expect(events.filter((e) => e.type === 'capture.started').map((e) => (e as { resumed?: boolean }).resumed)).toEqual(
      [false, true],
    );
    expect(events.at(-1)?.type).toBe('capture.sealed');
    expect(await incidentSnapshots(ec2, incident)).toHaveLength(1);
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, WaitTimeSeconds: 0 }));
    expect(left.Messages ?? []).toEqual([]);
  }, 180_000);
});
