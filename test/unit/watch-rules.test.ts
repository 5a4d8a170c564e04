/** The watch rules file: the minimal file works as written, problems name their place, safe defaults win over rules. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/core/errors.js';
import { parseCase } from '../../src/engine/case.js';
import { builtinProviders } from '../../src/engine/registry.js';
import { normaliseMessage } from '../../src/watch/normalise.js';
import { decideFinding, parseWatchRules, readWatchRules } from '../../src/watch/rules.js';
import { caseForFinding, incidentFor } from '../../src/watch/incident-for.js';
import type { Finding } from '../../src/watch/finding.js';

const MINIMAL = `accounts: ["123456789012"]          # act only here
forensicCidrs: ["203.0.113.7/32"]
rules:
  - match: { source: guardduty, type: "UnauthorizedAccess:EC2/*", minSeverity: 7 }
    action: contain                 # contain | collect | notify | ignore
  - match: { source: falco, priority: Critical }
    action: contain
`;

const fixture = (name: string) => readFileSync(new URL(`fixtures/watch/${name}`, import.meta.url), 'utf8');
const one = (name: string, cluster?: string): Finding =>
  normaliseMessage(fixture(name), cluster ? { cluster } : {})[0]!;

function writeRules(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'hf-rules-')), 'rules.yaml');
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError);
    return (error as BadInputError).problems.map((p) => `${p.field} ${p.message}`);
  }
  return [];
}

describe('watch rules', () => {
  const rules = readWatchRules(writeRules(MINIMAL));

  it("reads the issue's minimal file as written", () => {
    expect(rules).toMatchObject({
      accounts: ['123456789012'],
      forensicCidrs: ['203.0.113.7/32'],
      default: 'ignore',
      severity: { high: 7, medium: 4 },
      rules: [
        {
          match: { source: 'guardduty', type: ['UnauthorizedAccess:EC2/*'], minSeverity: 7 },
          action: 'contain',
          at: 'rules[0]',
        },
        { match: { source: 'falco', priority: ['Critical'] }, action: 'contain', at: 'rules[1]' },
      ],
    });
  });

  it('decides by the first matching rule; no match takes the default', () => {
    expect(decideFinding(one('guardduty-ec2.eventbridge.json'), rules)).toEqual({
      action: 'contain',
      reason: 'matched rules[0]',
      rule: 'rules[0]',
    });
    expect(decideFinding(one('falcosidekick.json'), rules)).toMatchObject({ action: 'contain', rule: 'rules[1]' });
    expect(decideFinding(one('guardduty-sdk.json'), rules)).toEqual({ action: 'ignore', reason: 'no rule matched' });
    const low = { ...one('guardduty-ec2.eventbridge.json'), severity: 5 };
    expect(decideFinding(low, rules).action).toBe('ignore');
  });

  it('never acts on sample, archived or resolved findings, or outside the listed accounts and clusters, whatever the rules say', () => {
    const all = parseWatchRules({ accounts: ['123456789012'], forensicAccess: false, rules: [{ action: 'contain' }] });
    expect(decideFinding(one('guardduty-eks-sample.eventbridge.json'), all)).toMatchObject({
      action: 'ignore',
      reason: 'a sample finding (never acted on)',
    });
    const [sample, resolved] = normaliseMessage(fixture('securityhub-custom-action.eventbridge.json'));
    expect(decideFinding(sample!, all).action).toBe('ignore');
    expect(decideFinding(resolved!, all)).toMatchObject({
      action: 'ignore',
      reason: 'the source archived, resolved or suppressed it',
    });
    const elsewhere = parseWatchRules({
      accounts: ['210987654321'],
      forensicAccess: false,
      rules: [{ action: 'contain' }],
    });
    expect(decideFinding(one('guardduty-ec2.eventbridge.json'), elsewhere)).toMatchObject({
      action: 'ignore',
      reason: "account 123456789012 is not in the rules' accounts",
    });
    expect(decideFinding(one('falcosidekick.json', 'other'), all).action).toBe('ignore');
  });

  it('matches tags, accounts and Falco minPriority; a request gets at most what it asked; nothing to capture is at most notify', () => {
    const r = parseWatchRules({
      accounts: ['123456789012'],
      forensicCidrs: ['203.0.113.7/32'],
      rules: [
        { match: { source: 'securityhub', tags: { Environment: 'prod' } }, action: 'contain' },
        { match: { source: 'falco', minPriority: 'Error' }, action: 'collect' },
        { match: { source: 'request' }, action: 'contain' },
      ],
      default: 'notify',
    });
    expect(decideFinding(one('securityhub-imported.eventbridge.json'), r).action).toBe('contain');
    expect(decideFinding(one('falcosidekick.json'), r).action).toBe('collect');
    const request = normaliseMessage(
      JSON.stringify({ ...JSON.parse(fixture('capture-request.json')), action: 'collect' }),
    )[0]!;
    expect(decideFinding(request, r)).toMatchObject({
      action: 'collect',
      reason: 'matched rules[2]; the request asked only to collect',
    });
    const hostAlert = { ...one('falcosidekick.json'), resources: [] };
    expect(decideFinding(hostAlert, r)).toMatchObject({ action: 'notify' });
  });

  it('names every problem by its path in the file, all at once', () => {
    const path = writeRules(`accounts: ["12345"]
forensicCidrs: ["0.0.0.0/0"]
severty: { high: 7 }
rules:
  - match: { source: guardduty, minSeverity: 11, colour: red }
    action: destroy
  - match: { source: guardduty, priority: Critical }
    action: contain
  - match: { source: falco, priority: Urgent }
    action: notify
`);
    const problems = problemsOf(() => readWatchRules(path));
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^${path}: severty unknown field`)),
      `${path}: accounts[0] "12345" is not a 12-digit AWS account id`,
      expect.stringMatching(new RegExp(`^${path}: forensicCidrs\\[0\\] `)),
      `${path}: rules[0].match.colour unknown match field (known: source, type, minSeverity, priority, minPriority, accounts, tags)`,
      `${path}: rules[0].match.minSeverity expected a number from 0 to 10 (GuardDuty's scale), got 11`,
      `${path}: rules[0].action expected contain, collect, notify, ignore, got "destroy"`,
      `${path}: rules[1].match.priority Falco priorities match only source falco, not guardduty`,
      expect.stringMatching(/rules\[2\]\.match\.priority expected a Falco priority/),
      `${path}: forensicCidrs none given, and a rule contains: give the forensic hosts' CIDRs, or decide to contain without forensic access (forensicAccess: false)`,
    ]);
    expect(problemsOf(() => parseWatchRules({ rules: [] }))).toEqual([
      expect.stringMatching(/^accounts is required/),
      'rules expected a list of rules (match, action)',
    ]);
    expect(problemsOf(() => readWatchRules('/nonexistent/rules.yaml'))).toEqual([
      '/nonexistent/rules.yaml cannot read (ENOENT)',
    ]);
  });

  it('agrees with schemas/watch-rules.schema.json on every field name', () => {
    const schema = JSON.parse(readFileSync(new URL('../../schemas/watch-rules.schema.json', import.meta.url), 'utf8'));
    const top = Object.keys(schema.properties).sort();
    const match = Object.keys(schema.properties.rules.items.properties.match.properties).sort();
    const known = (raw: Record<string, unknown>) =>
      problemsOf(() => parseWatchRules(raw)).filter((p) => /unknown/.test(p));
    // Every field the schema names is known to the parser, and an extra one is refused.
    expect(known(Object.fromEntries(top.map((k) => [k, undefined])))).toEqual([]);
    expect(
      problemsOf(() =>
        parseWatchRules({
          accounts: ['123456789012'],
          rules: [{ match: Object.fromEntries(match.map((k) => [k, undefined])), action: 'ignore' }],
        }),
      ),
    ).toEqual([]);
    expect(top).toEqual([
      'accounts',
      'assumeRole',
      'cluster',
      'clusters',
      'commander',
      'default',
      'forensicAccess',
      'forensicCidrs',
      'responders',
      'rules',
      'severity',
    ]);
    expect(match).toEqual(['accounts', 'minPriority', 'minSeverity', 'priority', 'source', 'tags', 'type']);
  });
});

describe('one incident per affected resource', () => {
  const rules = parseWatchRules({
    accounts: ['123456789012'],
    forensicCidrs: ['203.0.113.7/32'],
    rules: [{ action: 'contain' }],
  });

  it('derives the incident id from the resource, not the finding id: updates and other sources about it land in the same incident', () => {
    const gd = one('guardduty-ec2.eventbridge.json');
    const again = { ...gd, id: 'another-finding-id', updatedAt: '2026-12-07T23:00:00.000Z' };
    expect(incidentFor(gd.resources[0]!)).toBe(incidentFor(again.resources[0]!));
    expect(incidentFor(gd.resources[0]!)).toMatch(/^HF-EC2-[0-9a-f]{20}$/);
    const sh = one('securityhub-imported.eventbridge.json');
    const request = normaliseMessage(fixture('capture-request.json'))[0]!;
    expect(incidentFor(sh.resources[0]!)).toBe(incidentFor(request.resources[0]!));
    expect(incidentFor(sh.resources[0]!)).not.toBe(incidentFor(gd.resources[0]!));
    // The same instance id in another region or account is another resource.
    expect(
      incidentFor({
        ...(gd.resources[0] as { kind: 'ec2-instance'; account: string; region: string; instanceId: string }),
        region: 'eu-west-1',
      }),
    ).not.toBe(incidentFor(gd.resources[0]!));
    expect(incidentFor(one('falcosidekick.json', '').resources[0]!)).toMatch(/^HF-POD-/);
  });

  it("builds a case the engine accepts with the providers' own validation; collect takes the approval path", () => {
    for (const name of [
      'guardduty-ec2.eventbridge.json',
      'guardduty-sdk.json',
      'securityhub-imported.eventbridge.json',
      'falcosidekick.json',
    ]) {
      const finding = one(name, '');
      const input = caseForFinding(finding, { action: 'contain', reason: '' }, rules, '/tmp/es');
      const kase = parseCase(input, builtinProviders);
      expect(kase.incident).toBe(incidentFor(finding.resources[0]!));
    }
    const gd = one('guardduty-ec2.eventbridge.json');
    expect(caseForFinding(gd, { action: 'contain', reason: '' }, rules, '/tmp/es')).toMatchObject({
      severity: 'high',
      region: 'us-east-1',
      forensicCidrs: ['203.0.113.7/32'],
      targets: { ec2: { instances: ['i-99999999'] } },
    });
    expect(caseForFinding(gd, { action: 'collect', reason: '' }, rules, '/tmp/es')).toMatchObject({
      severity: 'low',
      approveContainment: false,
    });
  });
});
