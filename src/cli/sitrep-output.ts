/** The sitrep every command that changes an incident ends with, and the webhook that carries it. */
import { Option, type Command } from 'commander';
import { readJournalEvents } from '../evidence/journal.js';
import { createWebhookNotifier, NOTIFY_FORMATS, type NotifyFormat, type WebhookNotifier } from '../report/notify.js';
import { buildSitrep, renderSitrepMarkdown, renderSitrepText, type Sitrep, type SitrepKind } from '../report/sitrep.js';
import { BadInputError } from '../core/errors.js';
import type { Output } from './output.js';

/** `--notify-webhook` and `--notify-format` for a command that posts its progress and sitrep. */
export function addNotifyOptions(cmd: Command, what: string): Command {
  return cmd
    .option(
      '--notify-webhook <url>',
      `POST ${what} (failures never stop the run); env:NAME reads the URL from a variable (webhook URLs carry a token)`,
    )
    .addOption(
      new Option(
        '--notify-format <format>',
        "the webhook's body: slack (text plus blocks; the default for https://hooks.slack.com/…) or json (the default otherwise)",
      ).choices([...NOTIFY_FORMATS]),
    );
}

/** The notifier the options ask for, checked before anything runs. */
export function notifierFromOptions(opts: Record<string, unknown>): WebhookNotifier | undefined {
  if (typeof opts.notifyWebhook !== 'string') return undefined;
  const url = webhookUrl(opts.notifyWebhook);
  return createWebhookNotifier(url, opts.notifyFormat ? { format: opts.notifyFormat as NotifyFormat } : {});
}

/**
 * Build the incident's sitrep from its journal, print it (text for people, the sitrep as data with
 * --json) and post it to the webhook with `json` as the JSON body. Returns the sitrep.
 */
export async function reportSitrep(
  incident: string,
  journalPath: string | undefined,
  out: Output,
  options: {
    notifier?: WebhookNotifier;
    json?: Record<string, unknown>;
    note?: string;
    kind?: SitrepKind;
    what?: string;
    quiet?: boolean;
  } = {},
): Promise<Sitrep> {
  const sitrep = buildSitrep(incident, readJournalEvents(journalPath), new Date().toISOString(), {
    ...(options.kind ? { kind: options.kind } : {}),
  });
  if (!options.quiet) {
    out.data({ type: 'sitrep', ...sitrep });
    out.say(`\n${renderSitrepText(sitrep)}`);
  }
  if (options.notifier) {
    const posted = await options.notifier.finish({
      json: { type: 'sitrep', ...options.json, sitrep, markdown: renderSitrepMarkdown(sitrep) },
      sitrep,
      ...(options.note ? { note: options.note } : {}),
    });
    if (posted.failed)
      out.say(
        `note: ${posted.failed} of ${posted.sent + posted.failed} webhook posts failed (the ${options.what ?? 'run'} is not affected)`,
      );
  }
  return sitrep;
}

/** A webhook URL, or `env:NAME` to read it from the environment (chat webhook URLs carry a token: keep them out of argv). */
export function webhookUrl(value: string): string {
  const url = value.startsWith('env:') ? process.env[value.slice(4)] : value;
  if (!url) throw new BadInputError(`--notify-webhook ${value}: the variable is not set`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadInputError(`--notify-webhook ${value.startsWith('env:') ? value : '<url>'}: not a URL`);
  }
  if (!['http:', 'https:'].includes(parsed.protocol)) throw new BadInputError(`--notify-webhook: only http(s) URLs`);
  return url;
}
