/** Pure label-selector logic: what selects a pod, and the label change that takes it out of every holding selector. */
import type { LabelSelector } from './facts.js';

/** Value given to a key that a `DoesNotExist` requirement needs absent (no other way to leave that selector). */
export const DETACHED_LABEL_VALUE = 'holdfast-quarantined';

/** Does `selector` select these labels? An absent selector selects nothing; an empty one selects everything. */
export function selects(selector: LabelSelector | undefined | null, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const listed = has && (e.values ?? []).includes(labels[e.key]!);
    if (e.operator === 'In' && !listed) return false;
    if (e.operator === 'NotIn' && listed) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** A label merge patch: a string sets the key, null removes it. */
export type LabelPatch = Record<string, string | null>;

export function applyLabelPatch(labels: Record<string, string>, patch: LabelPatch): Record<string, string> {
  const out = { ...labels };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * The label change that makes none of `selectors` select the pod, touching only keys those
 * selectors use: keys they require present (matchLabels, In, Exists) are removed; a selector that
 * still matches (only NotIn/DoesNotExist left) gets one of its keys set to a value it excludes.
 * `unbreakable` lists selectors no label change can leave (an empty selector selects every pod).
 */
export function detachingLabelPatch(
  labels: Record<string, string>,
  selectors: readonly { source: string; selector: LabelSelector }[],
): { patch: LabelPatch; unbreakable: string[] } {
  const patch: LabelPatch = {};
  const holding = selectors.filter((s) => selects(s.selector, labels));
  for (const { selector } of holding) {
    for (const k of Object.keys(selector.matchLabels ?? {})) if (Object.hasOwn(labels, k)) patch[k] = null;
    for (const e of selector.matchExpressions ?? [])
      if ((e.operator === 'In' || e.operator === 'Exists') && Object.hasOwn(labels, e.key)) patch[e.key] = null;
  }
  const unbreakable: string[] = [];
  for (const { source, selector } of holding) {
    if (!selects(selector, applyLabelPatch(labels, patch))) continue;
    const absent = (selector.matchExpressions ?? []).find((e) => e.operator === 'DoesNotExist');
    const excluded = (selector.matchExpressions ?? []).find((e) => e.operator === 'NotIn' && e.values?.length);
    if (absent) patch[absent.key] = DETACHED_LABEL_VALUE;
    else if (excluded) patch[excluded.key] = excluded.values![0]!;
    else unbreakable.push(source);
  }
  // A value set for one selector may satisfy another's In: check the result as a whole.
  const after = applyLabelPatch(labels, patch);
  for (const { source, selector } of holding)
    if (selects(selector, after) && !unbreakable.includes(source)) unbreakable.push(source);
  return { patch, unbreakable };
}
