/**
 * Slack's message shape: `text` (mrkdwn: `*bold*`, `•` bullets, `&<>` escaped; the notification and
 * the fallback for clients that ignore blocks) plus Block Kit `blocks` within Slack's limits. The
 * sitrep and anything else holdfast posts to chat (the watch daemon's notices) go through here.
 * https://api.slack.com/reference/surfaces/formatting · https://api.slack.com/reference/block-kit/blocks
 */
import { sitrepFacts, sitrepSections, type Sitrep } from './sitrep.js';

/** Slack's limit on a header block's plain text. */
export const SLACK_HEADER_MAX_CHARS = 150;
/** Slack's limit on a section block's text. */
export const SLACK_SECTION_MAX_CHARS = 3000;
/** Slack's limit on one field of a section block. */
export const SLACK_FIELD_MAX_CHARS = 2000;
/** Slack's limit on fields in one section block. */
export const SLACK_MAX_FIELDS = 10;
/** Slack's limit on blocks in one message. */
export const SLACK_MAX_BLOCKS = 50;
/** Slack truncates a message's `text` beyond this; we stay well under it. */
export const SLACK_TEXT_MAX_CHARS = 12_000;
/** Items listed per section before "… and N more": a fleet's 1,000 snapshots do not belong in a channel. */
export const SLACK_ITEMS_PER_SECTION = 12;

export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: boolean } }
  | { type: 'section'; text?: { type: 'mrkdwn'; text: string }; fields?: { type: 'mrkdwn'; text: string }[] }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] }
  | { type: 'divider' };

/** What a Slack incoming webhook (and Slack-compatible chat: Mattermost, Rocket.Chat) accepts. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** A chat message in parts, before it is shaped for Slack. */
export interface ChatMessageParts {
  /** One line: the subject (header block and the first line of `text`). */
  header: string;
  /** An opening sentence in mrkdwn-free words. */
  intro?: string;
  /** Label → value pairs, shown as fields. */
  facts?: [string, string][];
  /** Titled lists; `empty` is what an empty one says (default "none"). */
  sections?: { title: string; items: string[]; empty?: string }[];
  /** Small print under the message (times, locations). */
  context?: string[];
}

/** The three characters Slack requires escaped in mrkdwn; everything else is shown as written. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** True for a Slack incoming-webhook URL (https://hooks.slack.com/…), which takes only Slack's shape. */
export function isSlackWebhookUrl(url: string): boolean {
  try {
    const { hostname, protocol } = new URL(url);
    return protocol === 'https:' && (hostname === 'hooks.slack.com' || hostname === 'hooks.slack-gov.com');
  } catch {
    return false;
  }
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A titled list in mrkdwn, capped at SLACK_ITEMS_PER_SECTION items and Slack's section length. */
function mrkdwnList(title: string, items: string[], esc: (t: string) => string, empty = 'none'): string {
  const shown = items.slice(0, SLACK_ITEMS_PER_SECTION).map((i) => `• ${esc(i)}`);
  if (items.length > shown.length) shown.push(`_… and ${items.length - shown.length} more_`);
  const body = shown.length ? shown.join('\n') : `_${esc(empty)}_`;
  return cut(`*${esc(title)}*\n${body}`, SLACK_SECTION_MAX_CHARS);
}

/**
 * The whole message as mrkdwn. `esc` is slackEscape for the API; a message pasted into Slack's
 * composer is typed, not posted, so it is left unescaped.
 */
function mrkdwnText(parts: ChatMessageParts, esc: (t: string) => string): string {
  return [
    `*${esc(parts.header)}*`,
    ...(parts.intro ? [esc(parts.intro)] : []),
    ...(parts.facts ?? []).map(([k, v]) => `*${esc(k)}:* ${esc(v)}`),
    ...(parts.sections ?? []).map((s) => mrkdwnList(s.title, s.items, esc, s.empty)),
    ...(parts.context ?? []).map((c) => `_${esc(c)}_`),
  ].join('\n');
}

/** Shape message parts as a Slack message: `text` carries the whole message in mrkdwn, `blocks` lay it out. */
export function slackMessage(parts: ChatMessageParts): SlackMessage {
  const esc = slackEscape;
  const facts = (parts.facts ?? []).map(([k, v]) => cut(`*${esc(k)}*\n${esc(v)}`, SLACK_FIELD_MAX_CHARS));
  const sections = (parts.sections ?? []).map((s) => mrkdwnList(s.title, s.items, esc, s.empty));
  const context = (parts.context ?? []).map((c) => esc(c));
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(parts.header, SLACK_HEADER_MAX_CHARS), emoji: false } },
  ];
  if (parts.intro)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(esc(parts.intro), SLACK_SECTION_MAX_CHARS) } });
  for (let i = 0; i < facts.length; i += SLACK_MAX_FIELDS)
    blocks.push({
      type: 'section',
      fields: facts.slice(i, i + SLACK_MAX_FIELDS).map((text) => ({ type: 'mrkdwn' as const, text })),
    });
  if (sections.length) blocks.push({ type: 'divider' });
  // Room for the context block: sections beyond Slack's block limit are merged into the last one.
  const room = SLACK_MAX_BLOCKS - blocks.length - (context.length ? 1 : 0);
  const kept = sections.slice(0, Math.max(0, room - 1));
  const rest = sections.slice(kept.length);
  if (rest.length) kept.push(cut(rest.join('\n\n'), SLACK_SECTION_MAX_CHARS));
  for (const text of kept) blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  if (context.length)
    blocks.push({ type: 'context', elements: context.slice(0, 10).map((text) => ({ type: 'mrkdwn', text })) });
  return { text: cut(mrkdwnText(parts, esc), SLACK_TEXT_MAX_CHARS), blocks };
}

/** A sitrep's parts for chat: the same facts and sections every format shows. */
function sitrepParts(s: Sitrep): ChatMessageParts {
  const facts = sitrepFacts(s);
  return {
    header: s.subject,
    ...(s.kind === 'hand-over' && s.handOver
      ? {
          intro: `Incident Commander duties pass from ${s.handOver.from ?? '(none named)'} to ${s.handOver.to} as of ${s.handOver.at}.`,
        }
      : s.kind === 'false-alarm'
        ? { intro: 'This incident was a false alarm. This is the final sitrep.' }
        : {}),
    facts: facts.filter(([k]) => k !== 'As of' && k !== 'Manifest'),
    sections: sitrepSections(s),
    context: facts.filter(([k]) => k === 'As of' || k === 'Manifest').map(([k, v]) => `${k}: ${v}`),
  };
}

/**
 * A sitrep as a Slack message (`text` plus `blocks`): what webhooks post to Slack and `sitrep
 * --format slack --json` prints. `note` leads the message (e.g. what a release just did).
 */
export function sitrepSlackMessage(s: Sitrep, note?: string): SlackMessage {
  const parts = sitrepParts(s);
  return slackMessage(note ? { ...parts, intro: parts.intro ? `${note}\n${parts.intro}` : note } : parts);
}

/** A one-line notice (a phase started or finished) as a Slack message; `bold` is shown first, in bold. */
export function slackNotice(bold: string, rest: string): SlackMessage {
  const text = `*${slackEscape(bold)}* ${slackEscape(rest)}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: cut(text, SLACK_SECTION_MAX_CHARS) } }] };
}

/** A sitrep in Slack mrkdwn alone, to paste into a channel as it is (unescaped: it is typed, not posted). */
export function renderSitrepSlack(s: Sitrep): string {
  return `${mrkdwnText(sitrepParts(s), (t) => t)}\n`;
}
