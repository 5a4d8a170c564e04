/**
 * People hear about it: each capture's phase changes and its final sitrep go to every webhook the
 * daemon was given (Slack incoming webhooks get `text` plus blocks in Slack mrkdwn, others JSON),
 * through the same notifier `evidence capture --notify-webhook` uses. A notify-only finding is one
 * notice. A webhook that fails never stops the daemon.
 */
import type { CaptureEvent } from '../core/events.js';
import { readJournalEvents } from '../evidence/journal.js';
import {
  createWebhookNotifier,
  notifyFormatFor,
  WEBHOOK_TIMEOUT_MS,
  type NotifyFormat,
  type WebhookNotifier,
} from '../report/notify.js';
import { buildSitrep, renderSitrepMarkdown } from '../report/sitrep.js';
import { slackNotice } from '../report/slack.js';
import type { Finding } from './finding.js';
import type { Decision } from './rules.js';

/** One webhook: its URL and, when the URL does not tell (hooks.slack.com), the body's shape. */
export interface WatchWebhook {
  url: string;
  format?: NotifyFormat;
}

/** The notifiers of one capture: listen to its events, then post the sitrep from its journal. */
export function captureNotifiers(webhooks: readonly WatchWebhook[]): {
  listener(event: CaptureEvent): void;
  finish(incident: string, journalPath: string | undefined, note: string): Promise<{ sent: number; failed: number }>;
} {
  const notifiers: WebhookNotifier[] = webhooks.map((w) =>
    createWebhookNotifier(w.url, w.format ? { format: w.format } : {}),
  );
  return {
    listener: (event) => notifiers.forEach((n) => n.listener(event)),
    async finish(incident, journalPath, note) {
      const sitrep = buildSitrep(incident, readJournalEvents(journalPath), new Date().toISOString());
      const json = { type: 'sitrep', incident, sitrep, markdown: renderSitrepMarkdown(sitrep) };
      const results = await Promise.all(notifiers.map((n) => n.finish({ json, sitrep, note })));
      return results.reduce((a, r) => ({ sent: a.sent + r.sent, failed: a.failed + r.failed }), { sent: 0, failed: 0 });
    },
  };
}

/** One notice for a finding the rules say to notify about (no capture). */
export async function postFindingNotice(
  webhooks: readonly WatchWebhook[],
  finding: Finding,
  decision: Decision,
  incident: string | undefined,
): Promise<void> {
  await Promise.all(
    webhooks.map(async (w) => {
      const slack = notifyFormatFor(w.url, w.format) === 'slack';
      const body = slack
        ? slackNotice(
            `${finding.source} finding (severity ${finding.severity})`,
            `${finding.title}${incident ? ` — ${incident}` : ''}: ${decision.reason}`,
          )
        : {
            type: 'finding',
            source: finding.source,
            id: finding.id,
            types: finding.types,
            severity: finding.severity,
            title: finding.title,
            decision: decision.action,
            reason: decision.reason,
            ...(incident ? { incident } : {}),
          };
      await fetch(w.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      }).catch(() => undefined);
    }),
  );
}
