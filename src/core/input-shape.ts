/**
 * A small checker for JSON that arrives from outside (a saved plan's step inputs): each check
 * reports problems naming the path it was given, and an object shape refuses members it does not
 * list. Providers' step parsers (`parseStep`) are written with it; it does no I/O.
 */
import { valueProblem, type InputProblem } from './errors.js';
import type { Case, Json, Step } from './types.js';

/** Check `value` found at `at`; push every problem. */
export type Check = (value: unknown, at: string, problems: InputProblem[]) => void;

/** No control characters (a newline or an escape in an id is never legitimate). */
const PLAIN_TEXT = /^[^\p{Cc}]*$/u;

/** Text matching `pattern`, said as `what` when it does not. */
export function text(pattern: RegExp = PLAIN_TEXT, what = 'is not plain text'): Check {
  return (value, at, problems) => {
    if (typeof value !== 'string') problems.push({ field: at, message: `expected text, got ${shown(value)}` });
    else if (!pattern.test(value)) problems.push(valueProblem(at, value, what));
  };
}

/** The case's region when it names one, else any AWS region name. */
export function caseRegion(kase: Case): Check {
  return kase.region ? equals(kase.region, 'the case') : text(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'is not an AWS region');
}

/** A problem unless the step's target is `expected`, the subject its id names. */
export function targetProblems(step: Step, expected: string): InputProblem[] {
  return step.target === expected ? [] : [{ field: 'target', message: `is not ${expected}, the step's subject` }];
}

/** true or false. */
export const bool: Check = (value, at, problems) => {
  if (typeof value !== 'boolean') problems.push({ field: at, message: `expected true or false, got ${shown(value)}` });
};

/** A whole number from `min` to `max`. */
export function int(min = 0, max = Number.MAX_SAFE_INTEGER): Check {
  return (value, at, problems) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      problems.push({ field: at, message: `expected a whole number from ${min} to ${max}, got ${shown(value)}` });
  };
}

/** Exactly `expected` (what the case or the step's own id says it must be). */
export function equals(expected: Json | undefined, why: string): Check {
  return (value, at, problems) => {
    if (JSON.stringify(value) !== JSON.stringify(expected))
      problems.push({ field: at, message: `is ${shown(value)}, but ${why} says ${shown(expected)}`, continues: true });
  };
}

/** null, or what `check` accepts. */
export function nullable(check: Check): Check {
  return (value, at, problems) => {
    if (value !== null) check(value, at, problems);
  };
}

/** Any JSON object (members not checked: recorded facts such as tags). */
export const anyObject: Check = (value, at, problems) => {
  if (!isObject(value)) problems.push({ field: at, message: `expected an object, got ${shown(value)}` });
};

/** A list whose every item `item` accepts. */
export function listOf(item: Check): Check {
  return (value, at, problems) => {
    if (!Array.isArray(value)) problems.push({ field: at, message: `expected a list, got ${shown(value)}` });
    else value.forEach((v, i) => item(v, `${at}[${i}]`, problems));
  };
}

/** An object with exactly these members (`optional` ones may be absent); any other member is refused. */
export function shape(members: Record<string, Check>, optional: readonly string[] = []): Check {
  return (value, at, problems) => {
    if (!isObject(value)) {
      problems.push({ field: at, message: `expected an object, got ${shown(value)}` });
      return;
    }
    for (const key of Object.keys(value))
      if (!Object.hasOwn(members, key)) problems.push({ field: `${at}.${key}`, message: 'unknown field' });
    for (const [key, check] of Object.entries(members)) {
      if (value[key] === undefined) {
        if (!optional.includes(key)) problems.push({ field: `${at}.${key}`, message: 'is missing', continues: true });
      } else check(value[key], `${at}.${key}`, problems);
    }
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function shown(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 77)}…` : json;
}
