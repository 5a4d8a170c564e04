/**
 * `--notify-webhook`: posts each phase change and the final sitrep. A Slack incoming webhook (or
 * `--notify-format slack`) gets Slack's shape (`text` plus `blocks`); any other URL gets JSON. A
 * failing webhook never fails a capture; failures are counted and reported by the caller.
 */
import type { CaptureEvent } from '../core/events.js';
import { isSlackWebhookUrl, sitrepSlackMessage, slackNotice } from './slack.js';
import type { Sitrep } from './sitrep.js';

/** Seconds a webhook may take before it is given up. */
export const WEBHOOK_TIMEOUT_MS = 5_000;

/** Body shapes a webhook can be sent. */
export const NOTIFY_FORMATS = ['json', 'slack'] as const;
export type NotifyFormat = (typeof NOTIFY_FORMATS)[number];

/** The shape to post to `url`: the one asked for, else Slack's for a Slack incoming webhook, else JSON. */
export function notifyFormatFor(url: string, requested?: NotifyFormat): NotifyFormat {
  return requested ?? (isSlackWebhookUrl(url) ? 'slack' : 'json');
}

/** The last post: the JSON document, and the sitrep a chat message is made of. */
export interface FinalNotice {
  json: Record<string, unknown>;
  sitrep: Sitrep;
  /** A line leading the chat message (what just happened). */
  note?: string;
}

export interface WebhookNotifier {
  readonly format: NotifyFormat;
  listener(event: CaptureEvent): void;
  /** Post the final document and wait for every post in flight. */
  finish(final: FinalNotice): Promise<{ sent: number; failed: number }>;
}

/** Watch events for phase changes and post them to `url`. */
export function createWebhookNotifier(
  url: string,
  options: { format?: NotifyFormat; post?: typeof fetch } = {},
): WebhookNotifier {
  const format = notifyFormatFor(url, options.format);
  const post = options.post ?? fetch;
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
  const notice = (json: Record<string, unknown>, bold: string, rest: string) =>
    send(format === 'slack' ? slackNotice(bold, rest) : json);
  let phaseOfStep = new Map<string, string>();
  const remaining = new Map<string, number>();
  const startedPhases = new Set<string>();
  return {
    format,
    listener(event) {
      if (event.type === 'capture.started') {
        phaseOfStep = new Map(event.plannedSteps.map((p) => [p.id, p.phase]));
        for (const p of event.plannedSteps) remaining.set(p.phase, (remaining.get(p.phase) ?? 0) + 1);
        notice(
          {
            type: 'capture.started',
            incident: event.incident,
            at: event.at,
            steps: event.steps,
            resumed: event.resumed,
          },
          event.incident,
          `capture ${event.resumed ? 'resumed' : 'started'}: ${event.steps} steps (${event.at})`,
        );
        return;
      }
      const phase = event.stepId ? phaseOfStep.get(event.stepId) : undefined;
      if (!phase) return;
      if (event.type === 'step.started' && !startedPhases.has(phase)) {
        startedPhases.add(phase);
        notice(
          { type: 'phase.started', incident: event.incident, phase, at: event.at },
          event.incident,
          `${phase} started (${event.at})`,
        );
      }
      if (event.type === 'step.done' || event.type === 'step.failed' || event.type === 'step.skipped') {
        const left = (remaining.get(phase) ?? 1) - 1;
        remaining.set(phase, left);
        if (left === 0)
          notice(
            { type: 'phase.finished', incident: event.incident, phase, at: event.at },
            event.incident,
            `${phase} finished (${event.at})`,
          );
      }
    },
    async finish(final) {
      send(format === 'slack' ? sitrepSlackMessage(final.sitrep, final.note) : final.json);
      await Promise.all(inFlight);
      return { sent, failed };
    },
  };
}
