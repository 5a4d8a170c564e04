/**
 * Pure: what each controller will do when release gives the pod its labels back. A controller
 * whose selector matches an orphan pod adopts it; a ReplicaSet then holding more pods than its
 * replicas deletes the surplus by its own ranking (a ReplicaSet kept at 0 after a rollout deletes the
 * pod at once); a StatefulSet replaces a pod of an old revision or above its replica count; a Job
 * or DaemonSet keeps its own count and template. Release leaves the pod out of any controller that
 * would delete it, unless the responder asks for it back (--readopt, after a deletion cost).
 */
import type { LabelSelector } from './facts.js';
import { selects } from './selectors.js';

/** A controller that could adopt the pod, as release reads it. */
export interface ControllerView {
  kind: string;
  name: string;
  uid: string;
  selector: LabelSelector | null;
  /** spec.replicas (ReplicaSet, StatefulSet). */
  replicas?: number;
  /** Active pods it holds now, not counting the evidence pod. */
  activePods: number;
  /** Being deleted: controllers do not adopt for an owner being deleted. */
  deleting: boolean;
  /** StatefulSet: status.updateRevision; only pods of it are kept. */
  updateRevision?: string;
}

export type Verdict = 'adopts' | 'deletes' | 'may-delete' | 'unknown';

export interface Prediction {
  controller: string;
  kind: string;
  name: string;
  uid: string;
  verdict: Verdict;
  why: string;
}

/** Whether a verdict ends with the evidence pod possibly deleted. */
export const endangers = (v: Verdict) => v !== 'adopts';

/** What each controller does once the pod carries `labels` (only controllers whose selector matches are listed). */
export function predictReadoption(
  pod: { name: string; labels: Record<string, string> },
  controllers: readonly ControllerView[],
): Prediction[] {
  const out: Prediction[] = [];
  for (const c of controllers) {
    if (c.deleting || !c.selector || !selects(c.selector, pod.labels)) continue;
    const base = { controller: `${c.kind} ${c.name}`, kind: c.kind, name: c.name, uid: c.uid };
    const verdict = ((): Pick<Prediction, 'verdict' | 'why'> => {
      if (c.kind === 'ReplicaSet') {
        const replicas = c.replicas ?? 1;
        const after = c.activePods + 1;
        if (after <= replicas)
          return { verdict: 'adopts', why: `it would hold ${after} of its ${replicas} replicas: nothing to delete` };
        if (replicas === 0)
          return {
            verdict: 'deletes',
            why: `it is scaled to ${replicas}: it would adopt the pod and delete it at once`,
          };
        return {
          verdict: 'may-delete',
          why: `it would hold ${after} pods for ${replicas} replicas and delete ${after - replicas} of them by its ranking (the evidence pod may be one)`,
        };
      }
      if (c.kind === 'StatefulSet') {
        const ordinal = Number(/-(\d+)$/.exec(pod.name)?.[1] ?? NaN);
        if (Number.isFinite(ordinal) && c.replicas !== undefined && ordinal >= c.replicas)
          return {
            verdict: 'deletes',
            why: `ordinal ${ordinal} is above its ${c.replicas} replicas: it would delete the pod`,
          };
        const revision = pod.labels['controller-revision-hash'];
        if (c.updateRevision && revision && revision !== c.updateRevision)
          return {
            verdict: 'deletes',
            why: `the pod is of revision ${revision}, the set is at ${c.updateRevision}: a rolling update would replace it`,
          };
        return { verdict: 'adopts', why: 'same revision, within its replicas' };
      }
      if (c.kind === 'Job')
        return {
          verdict: 'may-delete',
          why: 'a Job counts an adopted pod as active: suspended, or above its parallelism, it deletes active pods (pod-deletion-cost does not apply to Jobs)',
        };
      if (c.kind === 'DaemonSet')
        return {
          verdict: 'may-delete',
          why: 'a DaemonSet keeps one pod per node and replaces pods of an older template',
        };
      return { verdict: 'unknown', why: `holdfast cannot tell what the ${c.kind} controller does with an adopted pod` };
    })();
    out.push({ ...base, ...verdict });
  }
  return out;
}

/**
 * The label keys to keep detached so `selector` does not select the pod: among `restorable` keys
 * the selector uses, those no Service uses first (the pod may return to its Services, not to the
 * controller); all of them if that is not enough. Empty when no label change can keep it out.
 */
export function keysToKeepOut(
  selector: LabelSelector,
  labels: Record<string, string>,
  restorable: readonly string[],
  serviceKeys: ReadonlySet<string>,
): string[] {
  const used = new Set([
    ...Object.keys(selector.matchLabels ?? {}),
    ...(selector.matchExpressions ?? []).map((e) => e.key),
  ]);
  const candidates = restorable.filter((k) => used.has(k));
  const without = (keys: string[]) => Object.fromEntries(Object.entries(labels).filter(([k]) => !keys.includes(k)));
  const preferred = candidates.filter((k) => !serviceKeys.has(k));
  if (preferred.length && !selects(selector, without(preferred))) return preferred;
  if (candidates.length && !selects(selector, without(candidates))) return candidates;
  return [];
}
