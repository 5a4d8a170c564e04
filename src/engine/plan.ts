/**
 * The pure planner: (case, facts per provider, providers) → a versioned CapturePlan. No I/O, no
 * clock. Step ids are namespaced by provider and deterministic, so a re-run finds the same steps.
 */
import { digestOf } from '../evidence/canonical-json.js';
import { claimantsOf } from './claims.js';
import { InternalError } from '../core/errors.js';
import type { Case, CapturePlan, Provider, Step } from '../core/types.js';
import { PHASES, PLAN_SCHEMA } from '../core/types.js';

export const APPROVAL_REASON =
  'severity low: containment waits for --approve-containment (no disruption without agreement)';

/** Build the plan from discovered facts. */
export function buildPlan(
  kase: Case,
  factsByProvider: ReadonlyMap<string, unknown>,
  providers: readonly Provider[],
): CapturePlan {
  const steps: Step[] = [];
  const limitations: string[] = [];
  const claimants = claimantsOf(providers);
  for (const provider of providers) {
    if (!factsByProvider.has(provider.id)) continue;
    const drafted = provider.plan(factsByProvider.get(provider.id), kase, claimants);
    for (const l of drafted.limitations ?? []) if (!limitations.includes(l)) limitations.push(l);
    for (const draft of drafted.steps) {
      if (!kase.contain && draft.phase === 'contain') continue;
      steps.push({
        ...draft,
        id: `${provider.id}:${draft.id}`,
        provider: provider.id,
        dependsOn: (draft.dependsOn ?? []).map((d) => (d.includes(':') ? d : `${provider.id}:${d}`)),
      });
    }
  }
  assertUniqueIds(steps);
  addPhaseDependencies(steps);
  const stepById = new Map(steps.map((s) => [s.id, s]));
  for (const provider of providers) {
    if (!provider.relate || !factsByProvider.has(provider.id)) continue;
    for (const [stepId, deps] of Object.entries(provider.relate(steps))) {
      const step = stepById.get(stepId);
      if (step) for (const d of deps) if (!step.dependsOn.includes(d) && d !== stepId) step.dependsOn.push(d);
    }
  }
  pruneMissingDependencies(steps);
  assertAcyclic(steps);

  const waiting: CapturePlan['waiting'] = [];
  if (kase.severity === 'low' && !kase.approveContainment) {
    for (const step of steps) {
      if (step.phase !== 'contain') continue;
      step.awaitsApproval = true;
      waiting.push({ stepId: step.id, reason: APPROVAL_REASON });
    }
  }
  if (!kase.contain)
    limitations.push(
      'containment was not planned (--no-contain): the resources are preserved and collected but not isolated',
    );
  const body = { schema: PLAN_SCHEMA, incident: kase.incident, case: kase, steps, limitations, waiting } as const;
  return { ...body, digest: digestOf(body) };
}

/** Recompute a plan's digest (to check a saved plan was not edited); a signature over it is not part of it. */
export function planDigest(plan: Omit<CapturePlan, 'digest'> & { digest?: string }): string {
  const { digest: _ignored, signature: _signature, ...body } = plan;
  return digestOf(body);
}

function assertUniqueIds(steps: Step[]): void {
  const seen = new Set<string>();
  for (const s of steps) {
    if (seen.has(s.id)) throw new InternalError(`planner produced step id ${s.id} twice`);
    seen.add(s.id);
  }
}

/** A step waits for every step of its own target in an earlier phase. */
function addPhaseDependencies(steps: Step[]): void {
  const rank = (s: Step) => PHASES.indexOf(s.phase);
  // Grouped by target first: comparing every step with every other is quadratic in the fleet.
  const byTarget = new Map<string, Step[]>();
  for (const step of steps) {
    const list = byTarget.get(step.target) ?? [];
    list.push(step);
    byTarget.set(step.target, list);
  }
  for (const step of steps) {
    for (const other of byTarget.get(step.target)!) {
      if (rank(other) < rank(step) && !step.dependsOn.includes(other.id)) step.dependsOn.push(other.id);
    }
  }
}

/** Drop dependencies on steps that are not planned (e.g. contain steps under --no-contain). */
function pruneMissingDependencies(steps: Step[]): void {
  const ids = new Set(steps.map((s) => s.id));
  for (const s of steps) s.dependsOn = s.dependsOn.filter((d) => ids.has(d));
}

/** Throws when dependencies form a cycle (the planner's bug, or an edited saved plan). */
export function assertAcyclic(steps: Step[]): void {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting')
      throw new InternalError(`plan has a dependency cycle: ${[...path, id].join(' → ')}`);
    state.set(id, 'visiting');
    for (const d of byId.get(id)?.dependsOn ?? []) visit(d, [...path, id]);
    state.set(id, 'done');
  };
  for (const s of steps) visit(s.id, []);
}
