/**
 * `evidence sitrep --incident ID`: the situation report at any time, from the journal, for Slack,
 * a ticket, a terminal or a tool; `--commander`, `--responder`, `--take-over-ic` and `--false-alarm`
 * journal (and seal) what they say first.
 */
import { Option, type Command } from 'commander';
import { assertIncidentId, parseRoles } from '../../engine/case.js';
import { BadInputError, type InputProblem } from '../../core/errors.js';
import { resolveStateDir } from '../../engine/state-dir.js';
import { recordIncidentRoles, type RolesInput } from '../../engine/roles.js';
import { checkJournalChain } from '../../evidence/journal.js';
import {
  buildSitrep,
  renderSitrepMarkdown,
  renderSitrepText,
  SITREP_FORMATS,
  type Sitrep,
  type SitrepFormat,
} from '../../report/sitrep.js';
import { renderSitrepSlack, sitrepSlackMessage } from '../../report/slack.js';
import { STATE_DIR_HELP } from '../run-plan.js';
import { readIncidentJournal, storeFromOption } from '../store-option.js';
import { signerFromOptions } from '../signer-options.js';
import { addNotifyOptions, notifierFromOptions } from '../sitrep-output.js';
import { createOutput } from '../output.js';

/** Commander's collector for a repeatable name flag. */
export const collectNames = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `--commander`, `--responder` and `--take-over-ic` as roles to journal, checked (names are input). */
export function rolesFromOptions(opts: Record<string, unknown>): RolesInput | undefined {
  const takeOver = opts.takeOverIc;
  if (typeof takeOver === 'string' && typeof opts.commander === 'string' && opts.commander !== takeOver)
    throw new BadInputError('give --take-over-ic NAME or --commander NAME, not both');
  const problems: InputProblem[] = [];
  const roles = parseRoles(
    {
      ...(typeof takeOver === 'string'
        ? { commander: takeOver }
        : opts.commander !== undefined
          ? { commander: opts.commander }
          : {}),
      ...(opts.responder !== undefined ? { responders: opts.responder } : {}),
    },
    problems,
  );
  if (problems.length)
    throw new BadInputError(
      problems.map((p) =>
        typeof takeOver === 'string' && p.field === 'commander' ? { ...p, field: '--take-over-ic' } : p,
      ),
    );
  if (!roles.commander && !roles.responders.length) return undefined;
  return { ...roles, ...(typeof takeOver === 'string' ? { takeOver: true } : {}) };
}

/** Write a sitrep to stdout in `format`. */
export function writeSitrep(sitrep: Sitrep, format: SitrepFormat, slackBody = false): void {
  const text =
    format === 'json'
      ? `${JSON.stringify({ type: 'sitrep', ...sitrep })}\n`
      : format === 'slack'
        ? slackBody
          ? `${JSON.stringify(sitrepSlackMessage(sitrep))}\n`
          : renderSitrepSlack(sitrep)
        : format === 'text'
          ? renderSitrepText(sitrep)
          : renderSitrepMarkdown(sitrep);
  process.stdout.write(text);
}

/** Register `sitrep`. */
export function registerSitrepCommand(program: Command): void {
  const cmd = program
    .command('sitrep')
    .description("a situation report from the incident's journal: Slack, Markdown, text or JSON")
    .option('--incident <id>', 'incident id')
    .addOption(
      new Option('--format <format>', 'slack (mrkdwn to paste), markdown (tickets), text or json')
        .choices([...SITREP_FORMATS])
        .default('markdown'),
    )
    .option('--commander <name>', 'name the Incident Commander (journaled)')
    .option('--responder <name>', 'a responder joining (repeatable; journaled)', collectNames)
    .option(
      '--take-over-ic <name>',
      'hand Incident Commander duties to NAME (journaled) and write the hand-over sitrep',
    )
    .option('--false-alarm', 'declare the incident a false alarm (journaled) and write the final false-alarm sitrep')
    .option('--store <where>', 'read the journal from this evidence store when it is not on this machine')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option(
      '--sign-key <file>',
      'sign the seal of what this journals (required when the capture was signed: the same key)',
    )
    .option('--sign-kms-key <arn>', 'sign the seal of what this journals with this AWS KMS ECC_NIST_P256 key')
    .option('--json', 'the sitrep as JSON (with --format slack: the Slack message body, text plus blocks)');
  addNotifyOptions(cmd, 'the sitrep');
  cmd
    .addHelpText(
      'after',
      `
Examples:
  evidence sitrep --incident IR-2026-0042 --format slack | pbcopy
  evidence sitrep --incident IR-2026-0042 --take-over-ic "Dana Ruiz" --format slack
  evidence sitrep --incident IR-2026-0042 --false-alarm --notify-webhook env:SLACK_HOOK`,
    )
    .action(async (opts: Record<string, unknown>) => {
      const incident = assertIncidentId(opts.incident);
      const roles = rolesFromOptions(opts);
      const falseAlarm = Boolean(opts.falseAlarm);
      const notifier = notifierFromOptions(opts);
      const signer = signerFromOptions(opts);
      const stateDir = resolveStateDir(opts.stateDir as string | undefined);
      const store = typeof opts.store === 'string' ? storeFromOption(opts.store) : undefined;
      if (roles || falseAlarm) {
        const recorded = await recordIncidentRoles({
          incident,
          ...(roles ? { roles } : {}),
          falseAlarm,
          stateDir,
          ...(store ? { store } : {}),
          ...(signer ? { signer } : {}),
        });
        createOutput(false).say(
          recorded.added
            ? `journaled and sealed ${recorded.added === 1 ? 'one line' : `${recorded.added} lines`} in ${recorded.journalPath}`
            : 'nothing new to journal: the journal already says so',
        );
      }
      const chain = checkJournalChain(await readIncidentJournal(incident, stateDir, opts.store));
      const sitrep = buildSitrep(incident, chain.events, new Date().toISOString(), {
        ...(typeof opts.takeOverIc === 'string'
          ? { kind: 'hand-over' as const }
          : falseAlarm
            ? { kind: 'false-alarm' as const }
            : {}),
      });
      const format = opts.json && opts.format !== 'slack' ? 'json' : (opts.format as SitrepFormat);
      writeSitrep(sitrep, format, Boolean(opts.json));
      if (notifier) {
        const posted = await notifier.finish({
          json: { type: 'sitrep', sitrep, markdown: renderSitrepMarkdown(sitrep) },
          sitrep,
        });
        if (posted.failed) createOutput(false).say('note: the webhook post failed');
      }
      if (!chain.ok) createOutput(false).say(`note: the journal's chain is broken: ${chain.problems.join('; ')}`);
    });
}
