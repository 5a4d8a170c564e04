/**
 * A finding as the watch daemon understands it, whatever source it came from, and the checks every
 * source's normaliser shares. Everything in a finding is input written by someone else (a Falco
 * field by whoever controls the pod): sizes, characters and ids are checked before anything is used.
 */
import { BadInputError, type InputProblem } from '../core/errors.js';

/** Where a finding came from; rules match on it. */
export const FINDING_SOURCES = ['guardduty', 'securityhub', 'falco', 'request'] as const;
export type FindingSource = (typeof FINDING_SOURCES)[number];

/** A resource a finding names, with what makes it one thing: the incident id is derived from this. */
export type AffectedResource =
  | { kind: 'ec2-instance'; account: string; region: string; instanceId: string }
  | { kind: 'pod'; cluster: string; namespace: string; pod: string }
  | { kind: 'iam-user' | 'iam-role'; account: string; name: string };

/** One finding, normalised: the same fields for every source. */
export interface Finding {
  source: FindingSource;
  /** The source's own id (GuardDuty finding id, ASFF Id, OCSF finding_info.uid, Falco uuid, request id). */
  id: string;
  /** Finding types (GuardDuty `type`, ASFF `Types[]`, OCSF `finding_info.types[]`, the Falco rule). */
  types: string[];
  /** 0–10, GuardDuty's scale; other sources are mapped onto it (see each normaliser). */
  severity: number;
  /** Falco's priority as given (Emergency … Debug), for Falco findings only. */
  priority?: FalcoPriority;
  account?: string;
  region?: string;
  /** A sample finding (GuardDuty `additionalInfo.sample`, its ASFF product field): never acted on. */
  sample: boolean;
  /** False for a finding its source archived, resolved or suppressed: never acted on. */
  active: boolean;
  /** The source's own resource type (GuardDuty `resourceType`, the first ASFF/OCSF resource type). */
  resourceType?: string;
  title: string;
  /** When the source last updated it; a re-published finding keeps its id and moves this on. */
  updatedAt?: string;
  /** Tags of the affected resources (key → value), for rules that match on tags. */
  tags: Record<string, string>;
  /** The affected resources; the first is the one the incident is named after. */
  resources: AffectedResource[];
  /** Who leads and who helps, from a capture request (rules files give defaults). */
  commander?: string;
  responders?: string[];
}

/** Falco priorities, most urgent first (falco's own order). */
export const FALCO_PRIORITIES = [
  'Emergency',
  'Alert',
  'Critical',
  'Error',
  'Warning',
  'Notice',
  'Informational',
  'Debug',
] as const;
export type FalcoPriority = (typeof FALCO_PRIORITIES)[number];

/** Largest message body read at all: SQS's own limit is 1 MiB; a finding that size is not a finding. */
export const MAX_FINDING_BYTES = 256 * 1024;
/** Longest free text kept from a finding (titles, types). */
export const MAX_TEXT_LENGTH = 1024;
/** Most resources one finding may name; more is refused rather than acted on in bulk. */
export const MAX_RESOURCES_PER_FINDING = 20;
/** Most tags read per finding. */
export const MAX_TAGS = 100;

export const ACCOUNT_ID = /^\d{12}$/;
export const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/;
export const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
/** Kubernetes object names (DNS subdomain) — a pod or namespace name from a finding must be one. */
export const KUBE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
export const IAM_NAME = /^[\w+=,.@-]{1,64}$/;
/** Cluster names as EKS allows them (and a plain name for other clusters). */
export const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/**
 * A finding refused before anything is done with it. `reason` is stable, for logs, metrics and
 * bots: `oversized`, `malformed` (not JSON, wrong shape, bad id) or `unknown-source`.
 */
export class FindingRejected extends BadInputError {
  constructor(
    readonly reason: 'oversized' | 'malformed' | 'unknown-source',
    problems: InputProblem | InputProblem[],
  ) {
    super(problems);
  }
}

/** True when text holds a control character (C0 or DEL): a log line or a terminal could be forged with it. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Collects problems while a normaliser reads a body; every getter names the field path it read. */
export class FieldReader {
  readonly problems: InputProblem[] = [];

  constructor(readonly root: unknown) {}

  /** A string field: refused when too long or when it holds control characters. */
  text(
    value: unknown,
    field: string,
    options: { required?: boolean; max?: number; pattern?: RegExp; what?: string } = {},
  ): string | undefined {
    if (value === undefined || value === null || value === '') {
      if (options.required) this.problems.push({ field, message: 'is required', continues: true });
      return undefined;
    }
    if (typeof value !== 'string') {
      this.problems.push({ field, message: `expected text, got ${typeof value}` });
      return undefined;
    }
    const max = options.max ?? MAX_TEXT_LENGTH;
    if (value.length > max) {
      this.problems.push({ field, message: `is longer than ${max} characters (${value.length})`, continues: true });
      return undefined;
    }
    if (hasControlCharacter(value) && !options.pattern) {
      this.problems.push({ field, message: 'holds control characters', continues: true });
      return undefined;
    }
    if (options.pattern && !options.pattern.test(value)) {
      this.problems.push({
        field,
        message: `${JSON.stringify(value.slice(0, 80))} is not ${options.what ?? 'valid here'}`,
        continues: true,
      });
      return undefined;
    }
    return value;
  }

  /** A number within [min, max] (strings holding a number are accepted: ASFF sends some as text). */
  number(value: unknown, field: string, min: number, max: number): number | undefined {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
      this.problems.push({ field, message: `expected a number from ${min} to ${max}, got ${JSON.stringify(value)}` });
      return undefined;
    }
    return n;
  }

  /** An array field (absent: empty), refused beyond `max` items. */
  list(value: unknown, field: string, max: number): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.problems.push({ field, message: 'expected a list' });
      return [];
    }
    if (value.length > max) {
      this.problems.push({ field, message: `has ${value.length} items, more than ${max}`, continues: true });
      return [];
    }
    return value;
  }

  /** Throw FindingRejected (malformed) when anything was wrong. */
  done(): void {
    if (this.problems.length) throw new FindingRejected('malformed', this.problems);
  }
}
