/**
 * The engine counts calls without knowing any cloud: the AWS pacing middleware adds a step's calls
 * and throttles to the neutral meter (src/core/call-meter.ts); the engine journals them in the AWS
 * kit's words (the same bytes as before the meter) and sums them per cloud in the outcome.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pacingMiddleware, RateLimiter } from '../../src/aws/rate-limit.js';
import type { CaptureEvent } from '../../src/core/events.js';
import type { Case, Provider } from '../../src/core/types.js';
import { executePlan } from '../../src/engine/execute.js';
import { buildPlan } from '../../src/engine/plan.js';
import { memoryStore } from '../support/memory-store.js';

const kase: Case = {
  incident: 'IR-METER-1',
  severity: 'high',
  approveContainment: false,
  contain: true,
  forensicCidrs: [],
  store: { kind: 'fs', dir: '/nonexistent' },
  targets: { fake: {} },
};

/** A step that sends three calls through the AWS pacing middleware; the second is throttled once. */
function meteredProvider(): Provider {
  // No bucket: no token waits, so the counts are exact; throttles are still counted.
  const limiter = new RateLimiter(() => undefined);
  const send = pacingMiddleware(limiter)(
    async (args) => {
      if ((args as { throttle?: boolean }).throttle)
        throw Object.assign(new Error('Request limit exceeded.'), {
          name: 'RequestLimitExceeded',
          $metadata: { httpStatusCode: 503 },
        });
      return {};
    },
    { commandName: 'DescribeInstancesCommand' },
  );
  return {
    id: 'fake',
    summary: 'fake',
    flags: [],
    policies: [],
    example: '',
    parseParams: (raw) => ({ params: raw, problems: [] }),
    discover: async () => ({}),
    plan: () => ({
      steps: [{ id: 'read/t0', action: 'read', phase: 'collect', target: 'fake:t0', title: 'read', inputs: {} }],
    }),
    run: async () => {
      await send({});
      await send({ throttle: true }).catch(() => undefined);
      await send({});
      return { outputs: {} };
    },
  };
}

describe('call meter', () => {
  it("journals a throttled step's calls in the AWS kit's words and sums them per cloud", async () => {
    const provider = meteredProvider();
    const plan = buildPlan(kase, new Map([['fake', {}]]), [provider]);
    const events: CaptureEvent[] = [];
    const outcome = await executePlan(plan, {
      providers: [provider],
      store: memoryStore(),
      stateDir: mkdtempSync(join(tmpdir(), 'hf-meter-')),
      operator: { test: 'meter' },
      env: {},
      onEvent: (e) => events.push(e),
    });
    expect(outcome.status).toBe('complete');
    const progress = events.filter((e) => e.type === 'step.progress');
    expect(progress).toHaveLength(1);
    expect(progress[0]).toMatchObject({
      stepId: 'fake:read/t0',
      message: '3 AWS calls, 1 throttled (RequestLimitExceeded, retried), 0.0 s waiting for rate-limit tokens',
      detail: { apiCalls: 3, throttles: 1, pacedMs: 0 },
    });
    expect(outcome.calls).toEqual({ aws: { calls: 3, throttles: 1, pacedMs: 0 } });
  });
});
