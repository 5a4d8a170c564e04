/** The library contract: plain data in, typed events out, failure as a result, faults retried. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import {
  executePlan,
  planCapture,
  verifyEvidence,
  createS3Store,
  type CaptureEvent,
  type Provider,
} from '../../src/index.js';
import { guardAwsClient } from '../../src/aws/guard-client.js';
import { RemoteError } from '../../src/core/errors.js';
import { clientDefaults, createTestBucket, motoEnv, testIncident } from '../support/aws.js';
import { streamProvider } from '../support/stream-provider.mjs';

const providers = [streamProvider as unknown as Provider];
const stateDir = () => mkdtempSync(join(tmpdir(), 'hf-lib-'));

describe('library API', () => {
  it('plans and executes from plain data; a listener that throws never breaks the capture', async () => {
    const incident = testIncident('LIB');
    const dir = stateDir();
    const plan = await planCapture(
      { incident, store: join(dir, 'es'), targets: { teststream: { names: ['a'] } } },
      { providers },
    );
    const events: CaptureEvent[] = [];
    const outcome = await executePlan(plan, {
      providers,
      stateDir: dir,
      env: motoEnv(),
      onEvent: (e) => {
        events.push(e);
        throw new Error('a broken chat bot');
      },
    });
    expect(outcome.status).toBe('complete');
    expect(events.map((e) => e.type)).toContain('capture.sealed');
    expect(events.every((e, i) => e.seq === i + 1 && e.incident === incident)).toBe(true);
    const report = await verifyEvidence((await import('../../src/index.js')).createFsStore(join(dir, 'es')), incident);
    expect(report.ok).toBe(true);
  });

  it('retries throttling injected into the S3 client and records each retry', async () => {
    const bucket = await createTestBucket();
    const incident = testIncident('THR');
    const env = motoEnv();
    const client = guardAwsClient(
      new S3Client({ endpoint: inject('motoEndpoint'), forcePathStyle: true, region: 'us-east-1', maxAttempts: 1 }),
    );
    let throttled = 0;
    // Fault injection a server cannot produce on demand: the first two uploads are throttled.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        // Only the artifact's uploads: the step's retries are what this test counts.
        const key = String((args.input as { Key?: string }).Key ?? '');
        if (
          (context as { commandName?: string }).commandName === 'PutObjectCommand' &&
          key.includes('/artifacts/') &&
          throttled < 2
        ) {
          throttled++;
          throw Object.assign(new Error('Rate exceeded'), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectThrottle' },
    );
    const plan = await planCapture(
      { incident, store: `s3://${bucket}`, targets: { teststream: { names: ['a'] } } },
      { providers },
    );
    const events: CaptureEvent[] = [];
    const spec = plan.case.store as Extract<typeof plan.case.store, { kind: 's3' }>;
    const store = createS3Store(spec, { region: 'us-east-1', ...clientDefaults() }, client);
    const outcome = await executePlan(plan, {
      providers,
      store,
      stateDir: stateDir(),
      env,
      retry: { baseDelayMs: 10 },
      onEvent: (e) => events.push(e),
    });
    expect(outcome.status).toBe('complete');
    expect(events.filter((e) => e.type === 'step.retry')).toHaveLength(2);
    expect(throttled).toBe(2);
  });

  it('gives up on a step after the retry budget and reports a partial capture as a result', async () => {
    const incident = testIncident('GIVEUP');
    const flaky: Provider = {
      ...(streamProvider as unknown as Provider),
      id: 'flaky',
      async run(step) {
        if (step.action === 'collect') throw new RemoteError('RequestTimeout: the API did not answer', true);
        return {};
      },
    };
    const dir = stateDir();
    const plan = await planCapture(
      { incident, store: join(dir, 'es'), targets: { flaky: { names: ['a'] } } },
      { providers: [flaky] },
    );
    const outcome = await executePlan(plan, {
      providers: [flaky],
      stateDir: dir,
      env: motoEnv(),
      retry: { maxAttempts: 3, baseDelayMs: 5 },
    });
    expect(outcome.status).toBe('partial');
    expect(outcome.failures).toEqual([
      expect.objectContaining({ stepId: 'flaky:collect/a', code: 'REMOTE_FAILURE', retryable: true }),
      expect.objectContaining({ stepId: 'flaky:contain/a', code: 'SKIPPED' }),
    ]);
    expect(outcome.manifest?.failures).toHaveLength(2);
  });

  it('an AbortSignal stops the capture cleanly and a second call resumes it', async () => {
    const incident = testIncident('ABORT');
    const dir = stateDir();
    const plan = await planCapture(
      { incident, store: join(dir, 'es'), targets: { teststream: { names: ['a', 'b'], delayMs: 50 } } },
      { providers },
    );
    const controller = new AbortController();
    const first = await executePlan(plan, {
      providers,
      stateDir: dir,
      env: motoEnv(),
      concurrency: 1,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'step.done') controller.abort('operator pressed Ctrl-C');
      },
    });
    expect(first.status).toBe('aborted');
    expect(first.manifest).toBeUndefined();
    const second = await executePlan(plan, { providers, stateDir: dir, env: motoEnv() });
    expect(second.status).toBe('complete');
    expect(second.artifacts).toHaveLength(2);
  });
});
