/**
 * `--notify-webhook`: posts each phase change and the final sitrep as JSON. A failing webhook never
 * fails a capture; failures are counted and reported by the caller.
 */
import type { CaptureEvent } from '../core/events.js';

/** Seconds a webhook may take before it is given up. */
export const WEBHOOK_TIMEOUT_MS = 5_000;

export interface WebhookNotifier {
  listener(event: CaptureEvent): void;
  /** Post the final document and wait for every post in flight. */
  finish(final: unknown): Promise<{ sent: number; failed: number }>;
}

/** Watch events for phase changes and post them to `url`. */
export function createWebhookNotifier(url: string, post: typeof fetch = fetch): WebhookNotifier {
  const inFlight: Promise<void>[] = [];
  let sent = 0;
  let failed = 0;
  const send = (body: unknown) => {
    inFlight.push(
      post(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      })
        .then((res) => {
          if (res.ok) sent++;
          else failed++;
        })
        .catch(() => {
          failed++;
        }),
    );
  };
  let phaseOfStep = new Map<string, string>();
  const remaining = new Map<string, number>();
  const startedPhases = new Set<string>();
  return {
    listener(event) {
      if (event.type === 'capture.started') {
        phaseOfStep = new Map(event.plannedSteps.map((p) => [p.id, p.phase]));
        for (const p of event.plannedSteps) remaining.set(p.phase, (remaining.get(p.phase) ?? 0) + 1);
        send({
          type: 'capture.started',
          incident: event.incident,
          at: event.at,
          steps: event.steps,
          resumed: event.resumed,
        });
        return;
      }
      const phase = event.stepId ? phaseOfStep.get(event.stepId) : undefined;
      if (!phase) return;
      if (event.type === 'step.started' && !startedPhases.has(phase)) {
        startedPhases.add(phase);
        send({ type: 'phase.started', incident: event.incident, phase, at: event.at });
      }
      if (event.type === 'step.done' || event.type === 'step.failed' || event.type === 'step.skipped') {
        const left = (remaining.get(phase) ?? 1) - 1;
        remaining.set(phase, left);
        if (left === 0) send({ type: 'phase.finished', incident: event.incident, phase, at: event.at });
      }
    },
    async finish(final) {
      send(final);
      await Promise.all(inFlight);
      return { sent, failed };
    },
  };
}
