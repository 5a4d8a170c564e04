/**
 * The watch rules file: which accounts and clusters holdfast may act in, and, per source, finding
 * type, severity, Falco priority, account and resource tags, what to do — contain, collect (evidence
 * now, containment awaits a person's approval), notify or ignore. Checked at start, every problem
 * named by its path in the file (schemas/watch-rules.schema.json describes the same shape).
 */
import { forensicCidrProblem } from '../core/cidr.js';
import { readYamlFile } from '../engine/case.js';
import { BadInputError, valueProblem, type InputProblem } from '../core/errors.js';
import {
  ACCOUNT_ID,
  CLUSTER_NAME,
  FALCO_PRIORITIES,
  FINDING_SOURCES,
  type FalcoPriority,
  type Finding,
  type FindingSource,
} from './finding.js';

export const WATCH_ACTIONS = ['contain', 'collect', 'notify', 'ignore'] as const;
export type WatchAction = (typeof WATCH_ACTIONS)[number];

/** What a rule matches on; every field given must match. */
export interface RuleMatch {
  source?: FindingSource;
  /** Finding types, `*` matching any run of characters (`UnauthorizedAccess:EC2/*`). */
  type?: string[];
  minSeverity?: number;
  /** Falco priorities matched exactly. */
  priority?: FalcoPriority[];
  /** This Falco priority or a more urgent one. */
  minPriority?: FalcoPriority;
  accounts?: string[];
  /** Resource tags that must all be present with these values. */
  tags?: Record<string, string>;
}

export interface WatchRule {
  match: RuleMatch;
  action: WatchAction;
  /** Where it is in the file (`rules[2]`), for logs. */
  at: string;
}

/** A validated rules file. */
export interface WatchRules {
  /** Accounts holdfast may act in; a finding elsewhere is ignored. */
  accounts: string[];
  /** Clusters Falco and pod findings may come from (empty: the one cluster this daemon reaches). */
  clusters: string[];
  /** The cluster name given to pod findings that do not name theirs. */
  cluster: string;
  forensicCidrs: string[];
  /** false: contain without forensic access (no CIDRs), decided once for every incident. */
  forensicAccess: boolean;
  /** Role to assume per account, `{account}` replaced (absent: the daemon's own credentials). */
  assumeRole?: string;
  /** GuardDuty-scale thresholds for the case's severity: at least `high` is high, at least `medium` medium. */
  severity: { high: number; medium: number };
  commander?: string;
  responders: string[];
  /** What happens to a finding no rule matches. */
  default: 'notify' | 'ignore';
  rules: WatchRule[];
}

const TOP_FIELDS = [
  'accounts',
  'clusters',
  'cluster',
  'forensicCidrs',
  'forensicAccess',
  'assumeRole',
  'severity',
  'commander',
  'responders',
  'default',
  'rules',
];
const MATCH_FIELDS = ['source', 'type', 'minSeverity', 'priority', 'minPriority', 'accounts', 'tags'];
const ROLE_TEMPLATE = /^arn:aws[a-z-]*:iam::(\d{12}|\{account\}):role\/[\w+=,.@/-]{1,128}$/;

function strings(value: unknown, field: string, problems: InputProblem[], pattern?: RegExp, what?: string): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  list.forEach((item, i) => {
    const at = Array.isArray(value) ? `${field}[${i}]` : field;
    if (typeof item !== 'string' || !item)
      problems.push({ field: at, message: `expected text, got ${JSON.stringify(item)}` });
    else if (pattern && !pattern.test(item)) problems.push(valueProblem(at, item, `is not ${what}`));
    else out.push(item);
  });
  return out;
}

function severityNumber(value: unknown, field: string, problems: InputProblem[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 10) {
    problems.push({
      field,
      message: `expected a number from 0 to 10 (GuardDuty's scale), got ${JSON.stringify(value)}`,
    });
    return undefined;
  }
  return value;
}

function priority(value: unknown, field: string, problems: InputProblem[]): FalcoPriority | undefined {
  const found = FALCO_PRIORITIES.find((p) => typeof value === 'string' && p.toLowerCase() === value.toLowerCase());
  if (!found)
    problems.push({
      field,
      message: `expected a Falco priority (${FALCO_PRIORITIES.join(', ')}), got ${JSON.stringify(value)}`,
    });
  return found;
}

function parseMatch(raw: unknown, at: string, problems: InputProblem[]): RuleMatch {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({
      field: at,
      message: 'expected a mapping (source, type, minSeverity, priority, minPriority, accounts, tags)',
    });
    return {};
  }
  const m = raw as Record<string, unknown>;
  for (const key of Object.keys(m))
    if (!MATCH_FIELDS.includes(key))
      problems.push({ field: `${at}.${key}`, message: `unknown match field (known: ${MATCH_FIELDS.join(', ')})` });
  const match: RuleMatch = {};
  if (m.source !== undefined) {
    if (FINDING_SOURCES.includes(m.source as FindingSource)) match.source = m.source as FindingSource;
    else
      problems.push({
        field: `${at}.source`,
        message: `expected one of ${FINDING_SOURCES.join(', ')}, got ${JSON.stringify(m.source)}`,
      });
  }
  if (m.type !== undefined) match.type = strings(m.type, `${at}.type`, problems);
  const min = severityNumber(m.minSeverity, `${at}.minSeverity`, problems);
  if (min !== undefined) match.minSeverity = min;
  if (m.priority !== undefined)
    match.priority = (Array.isArray(m.priority) ? m.priority : [m.priority])
      .map((p, i) => priority(p, Array.isArray(m.priority) ? `${at}.priority[${i}]` : `${at}.priority`, problems))
      .filter((p): p is FalcoPriority => Boolean(p));
  if (m.minPriority !== undefined) {
    const p = priority(m.minPriority, `${at}.minPriority`, problems);
    if (p) match.minPriority = p;
  }
  if (m.accounts !== undefined)
    match.accounts = strings(m.accounts, `${at}.accounts`, problems, ACCOUNT_ID, 'a 12-digit AWS account id');
  if (m.tags !== undefined) {
    if (m.tags === null || typeof m.tags !== 'object' || Array.isArray(m.tags))
      problems.push({ field: `${at}.tags`, message: 'expected a mapping of tag key to value' });
    else {
      match.tags = {};
      for (const [k, v] of Object.entries(m.tags as Record<string, unknown>)) {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
          problems.push({ field: `${at}.tags.${k}`, message: 'expected a value' });
        else match.tags[k] = String(v);
      }
    }
  }
  const usesFalco = match.priority !== undefined || match.minPriority !== undefined;
  if (usesFalco && match.source !== undefined && match.source !== 'falco')
    problems.push({
      field: `${at}.priority`,
      message: `Falco priorities match only source falco, not ${match.source}`,
    });
  return match;
}

/** Validate a parsed rules document; throws BadInputError naming every problem (`field` is its path, prefixed by `file`). */
export function parseWatchRules(raw: unknown, file = ''): WatchRules {
  const problems: InputProblem[] = [];
  const named = (p: InputProblem): InputProblem => (file ? { ...p, field: p.field ? `${file}: ${p.field}` : file } : p);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new BadInputError(named({ field: '', message: 'expected a mapping with accounts and rules' }));
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!TOP_FIELDS.includes(key))
      problems.push({ field: key, message: `unknown field (known: ${TOP_FIELDS.join(', ')})` });
  const accounts = strings(o.accounts, 'accounts', problems, ACCOUNT_ID, 'a 12-digit AWS account id');
  if (o.accounts === undefined)
    problems.push({
      field: 'accounts',
      message: 'is required: the accounts holdfast may act in (nothing outside them is touched)',
      continues: true,
    });
  const clusters = strings(o.clusters, 'clusters', problems, CLUSTER_NAME, 'a cluster name');
  const cluster =
    o.cluster === undefined ? '' : (strings(o.cluster, 'cluster', problems, CLUSTER_NAME, 'a cluster name')[0] ?? '');
  const forensicCidrs = strings(o.forensicCidrs, 'forensicCidrs', problems).filter((cidr, i) => {
    const problem = forensicCidrProblem(cidr);
    if (problem)
      problems.push({
        field: Array.isArray(o.forensicCidrs) ? `forensicCidrs[${i}]` : 'forensicCidrs',
        message: problem,
        continues: true,
      });
    return !problem;
  });
  const forensicAccess = o.forensicAccess ?? true;
  if (typeof forensicAccess !== 'boolean')
    problems.push({
      field: 'forensicAccess',
      message: `expected true or false, got ${JSON.stringify(o.forensicAccess)}`,
    });
  else if (!forensicAccess && forensicCidrs.length)
    problems.push({ field: 'forensicAccess', message: 'is false and forensicCidrs are given: choose one' });
  const assumeRole =
    o.assumeRole === undefined
      ? undefined
      : strings(
          o.assumeRole,
          'assumeRole',
          problems,
          ROLE_TEMPLATE,
          "an IAM role ARN (`{account}` stands for the finding's account)",
        )[0];
  const severity = { high: 7, medium: 4 };
  if (o.severity !== undefined) {
    if (o.severity === null || typeof o.severity !== 'object' || Array.isArray(o.severity))
      problems.push({ field: 'severity', message: 'expected { high: N, medium: N } on the 0–10 scale' });
    else {
      const s = o.severity as Record<string, unknown>;
      for (const key of Object.keys(s))
        if (key !== 'high' && key !== 'medium')
          problems.push({ field: `severity.${key}`, message: 'unknown field (high, medium)' });
      severity.high = severityNumber(s.high, 'severity.high', problems) ?? severity.high;
      severity.medium = severityNumber(s.medium, 'severity.medium', problems) ?? severity.medium;
      if (severity.medium > severity.high)
        problems.push({ field: 'severity.medium', message: `is above severity.high (${severity.high})` });
    }
  }
  const commander = o.commander === undefined ? undefined : strings(o.commander, 'commander', problems)[0];
  const responders = strings(o.responders, 'responders', problems);
  const fallback = o.default ?? 'ignore';
  if (fallback !== 'notify' && fallback !== 'ignore')
    problems.push({ field: 'default', message: `expected notify or ignore, got ${JSON.stringify(o.default)}` });
  const rules: WatchRule[] = [];
  if (!Array.isArray(o.rules) || !o.rules.length)
    problems.push({ field: 'rules', message: 'expected a list of rules (match, action)' });
  else
    o.rules.forEach((rule, i) => {
      const at = `rules[${i}]`;
      if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) {
        problems.push({ field: at, message: 'expected a mapping with match and action' });
        return;
      }
      const r = rule as Record<string, unknown>;
      for (const key of Object.keys(r))
        if (key !== 'match' && key !== 'action')
          problems.push({ field: `${at}.${key}`, message: 'unknown rule field (match, action)' });
      const match = parseMatch(r.match ?? {}, `${at}.match`, problems);
      if (!WATCH_ACTIONS.includes(r.action as WatchAction))
        problems.push({
          field: `${at}.action`,
          message: `expected ${WATCH_ACTIONS.join(', ')}, got ${JSON.stringify(r.action)}`,
        });
      else rules.push({ match, action: r.action as WatchAction, at });
    });
  // Containment cuts a resource off: who may still reach it is decided here, once, not per incident.
  if (forensicAccess === true && !forensicCidrs.length && rules.some((r) => r.action === 'contain'))
    problems.push({
      field: 'forensicCidrs',
      message:
        "none given, and a rule contains: give the forensic hosts' CIDRs, or decide to contain without forensic access (forensicAccess: false)",
      continues: true,
    });
  if (problems.length) throw new BadInputError(problems.map(named));
  return {
    accounts,
    clusters,
    cluster,
    forensicCidrs,
    forensicAccess: forensicAccess !== false,
    ...(assumeRole ? { assumeRole } : {}),
    severity,
    ...(commander ? { commander } : {}),
    responders,
    default: fallback as 'notify' | 'ignore',
    rules,
  };
}

/** Read and validate a YAML (or JSON) rules file; problems name the file and the path in it. */
export function readWatchRules(path: string): WatchRules {
  return parseWatchRules(readYamlFile(path), path);
}

/** `*` matches any run of characters; everything else literally. */
function globMatches(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(text);
}

function ruleMatches(m: RuleMatch, f: Finding): boolean {
  if (m.source && m.source !== f.source) return false;
  if (m.type && !m.type.some((t) => f.types.some((ft) => globMatches(t, ft)))) return false;
  if (m.minSeverity !== undefined && f.severity < m.minSeverity) return false;
  if (m.priority && (!f.priority || !m.priority.includes(f.priority))) return false;
  if (m.minPriority && (!f.priority || FALCO_PRIORITIES.indexOf(f.priority) > FALCO_PRIORITIES.indexOf(m.minPriority)))
    return false;
  if (m.accounts && (!f.account || !m.accounts.includes(f.account))) return false;
  if (m.tags && !Object.entries(m.tags).every(([k, v]) => f.tags[k] === v)) return false;
  return true;
}

/** What to do with a finding and why; `rule` is the matching rule's place in the file. */
export interface Decision {
  action: WatchAction;
  reason: string;
  rule?: string;
}

const ACTION_ORDER: WatchAction[] = ['ignore', 'notify', 'collect', 'contain'];

/**
 * Decide a finding. Safe defaults come first and no rule overrides them: an archived or resolved
 * finding, a sample finding, or one outside the listed accounts and clusters is ignored; a finding
 * naming nothing holdfast can capture is at most notified; a capture request gets at most what it asked.
 */
export function decideFinding(finding: Finding, rules: WatchRules): Decision {
  if (finding.sample) return { action: 'ignore', reason: 'a sample finding (never acted on)' };
  if (!finding.active) return { action: 'ignore', reason: 'the source archived, resolved or suppressed it' };
  const accounts = [finding.account, ...finding.resources.map((r) => ('account' in r ? r.account : undefined))].filter(
    (a): a is string => Boolean(a),
  );
  const outside = accounts.find((a) => !rules.accounts.includes(a));
  if (outside) return { action: 'ignore', reason: `account ${outside} is not in the rules' accounts` };
  const allowedClusters = rules.clusters.length ? rules.clusters : [rules.cluster];
  const pod = finding.resources.find((r) => r.kind === 'pod' && !allowedClusters.includes(r.cluster || rules.cluster));
  if (pod?.kind === 'pod')
    return { action: 'ignore', reason: `cluster ${JSON.stringify(pod.cluster)} is not in the rules' clusters` };
  const rule = rules.rules.find((r) => ruleMatches(r.match, finding));
  let decision: Decision = rule
    ? { action: rule.action, reason: `matched ${rule.at}`, rule: rule.at }
    : { action: rules.default, reason: 'no rule matched' };
  const requested = (finding as Finding & { requestedAction?: WatchAction }).requestedAction;
  if (requested && ACTION_ORDER.indexOf(requested) < ACTION_ORDER.indexOf(decision.action))
    decision = { ...decision, action: requested, reason: `${decision.reason}; the request asked only to ${requested}` };
  if ((decision.action === 'contain' || decision.action === 'collect') && !finding.resources.length)
    decision = {
      ...decision,
      action: 'notify',
      reason: `${decision.reason}; it names no resource holdfast can capture`,
    };
  return decision;
}

/** The case severity for a finding under the rules' thresholds. */
export function caseSeverity(finding: Finding, rules: WatchRules): 'high' | 'medium' | 'low' {
  if (finding.severity >= rules.severity.high) return 'high';
  if (finding.severity >= rules.severity.medium) return 'medium';
  return 'low';
}
