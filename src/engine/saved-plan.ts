/**
 * A plan read from a file is input like any other: before any call, its case goes through the case
 * parser again, its steps through the checks the planner's output always passes (phase order,
 * approval, no containment under --no-contain) and each through its provider's step parser. A digest
 * only detects accidents; these detect edits. No call is made here.
 */
import { canonicalJson } from '../evidence/canonical-json.js';
import { checkSignature, isSignatureRecord, signRecord, type Signer } from '../evidence/signing.js';
import { BadInputError, HoldfastError, type InputProblem } from '../core/errors.js';
import type { CapturePlan, Case, Provider, Step } from '../core/types.js';
import { PHASES, PLAN_SCHEMA } from '../core/types.js';
import { parseCase, type CaseInput } from './case.js';
import { APPROVAL_REASON, assertAcyclic, planDigest } from './plan.js';

/**
 * Validate a plan read from a file: known schema, untouched digest, a case the case parser gives
 * back unchanged, and steps that follow from that case. Every problem at once, as a BadInputError
 * whose fields start with `name` ('plan' for a library caller, the file for the CLI).
 */
export function assertUsablePlan(value: unknown, providers: readonly Provider[], name = 'plan'): CapturePlan {
  const refuse = (message: string) => new BadInputError({ field: name, message, continues: true });
  const plan = value as CapturePlan;
  if (!plan || typeof plan !== 'object') throw refuse('is not a plan object');
  if (plan.schema !== PLAN_SCHEMA) {
    throw refuse(`has schema ${JSON.stringify(plan.schema)}; this holdfast reads ${PLAN_SCHEMA}`);
  }
  if (!Array.isArray(plan.steps) || typeof plan.digest !== 'string' || !plan.case || typeof plan.case !== 'object') {
    throw refuse('lacks steps, case or digest');
  }
  if (planDigest(plan) !== plan.digest) {
    throw refuse('digest does not match its content (was it edited?)');
  }
  const unknown = [...new Set(plan.steps.map((s) => s?.provider))].filter((p) => !providers.some((q) => q.id === p));
  if (unknown.length) throw refuse(`uses providers this holdfast lacks: ${unknown.join(', ')}`);
  const at = (path: string) => (name === 'plan' ? `plan.${path}` : `${name}: ${path}`);
  const caseProblems = reparsedCaseProblems(plan.case, providers);
  if (caseProblems.length)
    throw new BadInputError(caseProblems.map((p) => ({ ...p, field: at(p.field ? `case.${p.field}` : 'case') })));
  const problems = [...planProblems(plan), ...plan.steps.flatMap((step, i) => stepProblems(step, i, plan, providers))];
  if (problems.length) throw new BadInputError(problems.map((p) => ({ ...p, field: at(p.field) })));
  return plan;
}

/** The case as a caller would have given it (stores, port ranges and params back in their input forms). */
function caseInputOf(kase: Case, providers: readonly Provider[]): CaseInput {
  const { store, forensicPorts, targets: parsed, ...given } = kase;
  const ports = forensicPorts ? { forensicPorts: forensicPorts.map((r) => `${r.from}-${r.to}`) } : {};
  const targets = Object.fromEntries(
    Object.entries(parsed ?? {}).map(([id, params]) => {
      const asInput = providers.find((p) => p.id === id)?.savedPlan?.paramsInput;
      return [id, asInput ? asInput(params) : params];
    }),
  );
  const rest = { ...given, targets };
  if (store?.kind !== 's3') return { ...rest, ...ports, store: store?.kind === 'fs' ? store.dir : store };
  const { bucket, prefix, retainDays, retentionMode, legalHold, allowUnlocked } = store;
  return {
    ...rest,
    ...ports,
    store: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
    retainDays,
    retentionMode,
    legalHold,
    allowUnlockedStore: allowUnlocked,
  };
}

/** Problems with a saved case: what the case parser refuses, or a field it would have parsed otherwise. */
function reparsedCaseProblems(kase: Case, providers: readonly Provider[]): InputProblem[] {
  let reparsed: Case;
  try {
    reparsed = parseCase(caseInputOf(kase, providers), providers);
  } catch (error) {
    if (error instanceof BadInputError) return error.problems;
    throw error;
  }
  const fields = new Set([...Object.keys(kase), ...Object.keys(reparsed)]) as Set<keyof Case>;
  return [...fields]
    .filter((f) => canonicalJson(kase[f] ?? null) !== canonicalJson(reparsed[f] ?? null))
    .map((f) => ({ field: f, message: 'is not what the case parser makes of it (was it edited?)', continues: true }));
}

/** What the planner guarantees of every plan, checked again: incident, unique ids, approval, waiting list. */
function planProblems(plan: CapturePlan): InputProblem[] {
  const problems: InputProblem[] = [];
  const kase = plan.case;
  if (plan.incident !== kase.incident) problems.push({ field: 'incident', message: "is not the case's incident" });
  const ids = plan.steps.map((s) => s?.id);
  if (new Set(ids).size !== ids.length) problems.push({ field: 'steps', message: 'has a step id twice' });
  const held = kase.severity === 'low' && !kase.approveContainment;
  const waiting = plan.steps
    .filter((s) => held && s?.phase === 'contain')
    .map((s) => ({ stepId: s.id, reason: APPROVAL_REASON }));
  if (canonicalJson(plan.waiting ?? null) !== canonicalJson(waiting))
    problems.push({
      field: 'waiting',
      message: held
        ? 'does not list every contain step as awaiting approval (severity low without approveContainment)'
        : 'lists steps awaiting approval, but the case approves containment',
    });
  if (!Array.isArray(plan.limitations) || plan.limitations.some((l) => typeof l !== 'string'))
    problems.push({ field: 'limitations', message: 'expected a list of text' });
  if (!problems.length) {
    try {
      assertAcyclic(plan.steps);
    } catch (error) {
      if (!(error instanceof HoldfastError)) throw error;
      problems.push({ field: 'steps', message: error.message });
    }
  }
  return problems;
}

const STEP_MEMBERS = ['id', 'provider', 'action', 'phase', 'target', 'title', 'inputs', 'dependsOn', 'awaitsApproval'];

/** One step: the members the planner writes, the order it guarantees, then its provider's own parser. */
function stepProblems(step: Step, i: number, plan: CapturePlan, providers: readonly Provider[]): InputProblem[] {
  const at = `steps[${i}]`;
  if (!step || typeof step !== 'object' || Array.isArray(step)) return [{ field: at, message: 'is not a step object' }];
  const named = (p: InputProblem): InputProblem => ({
    field: `${at}.${p.field}`,
    message: `step ${JSON.stringify(step.id)}: ${p.message}`,
  });
  const problems: InputProblem[] = [];
  for (const key of Object.keys(step))
    if (!STEP_MEMBERS.includes(key)) problems.push({ field: key, message: 'unknown field' });
  for (const key of ['id', 'action', 'target', 'title'] as const)
    if (typeof step[key] !== 'string') problems.push({ field: key, message: 'expected text' });
  if (!(PHASES as readonly unknown[]).includes(step.phase))
    problems.push({ field: 'phase', message: `expected one of ${PHASES.join(', ')}` });
  if (!step.inputs || typeof step.inputs !== 'object' || Array.isArray(step.inputs))
    problems.push({ field: 'inputs', message: 'expected an object' });
  if (!Array.isArray(step.dependsOn) || step.dependsOn.some((d) => typeof d !== 'string'))
    problems.push({ field: 'dependsOn', message: 'expected a list of step ids' });
  if (problems.length) return problems.map(named);

  const kase = plan.case;
  if (!step.id.startsWith(`${step.provider}:`))
    problems.push({ field: 'id', message: `does not start with ${step.provider}:` });
  if (!kase.targets[step.provider])
    problems.push({ field: 'provider', message: `${step.provider} has no targets in the case` });
  if (step.phase === 'contain' && !kase.contain)
    problems.push({ field: 'phase', message: 'contain, but the case plans no containment (contain: false)' });
  const held = kase.severity === 'low' && !kase.approveContainment && step.phase === 'contain';
  if (step.awaitsApproval !== (held ? true : undefined))
    problems.push({
      field: 'awaitsApproval',
      message: held
        ? 'must be true: containment at severity low waits for approval'
        : 'is set, but the case does not hold it back',
    });
  // Evidence before change: a step waits for every earlier-phase step of its own target.
  const rank = PHASES.indexOf(step.phase);
  for (const other of plan.steps)
    if (other?.target === step.target && PHASES.indexOf(other.phase) < rank && !step.dependsOn.includes(other.id))
      problems.push({ field: 'dependsOn', message: `lacks ${other.id} (an earlier phase of the same target)` });
  for (const d of step.dependsOn)
    if (!plan.steps.some((s) => s?.id === d))
      problems.push({ field: 'dependsOn', message: `names no step of the plan: ${d}` });
  const provider = providers.find((p) => p.id === step.provider);
  if (provider?.savedPlan) problems.push(...provider.savedPlan.parseStep(step, kase).problems);
  return problems.map(named);
}

/** The plan with a signature over its digest (`evidence plan --sign-key`): the reviewed plan, as `apply --require-signed` wants it. */
export async function signPlan(plan: CapturePlan, signer: Signer): Promise<CapturePlan> {
  const { signature: _previous, ...unsigned } = plan;
  const record = await signRecord(signer, {
    kind: 'plan',
    incident: plan.incident,
    recordKey: 'plan',
    recordSha256: planDigest(unsigned),
  });
  return { ...unsigned, signature: { ...record } };
}

/**
 * Refuse a plan that is not signed, or whose signature is not over its digest, for its incident,
 * by the pinned key when one is given (without one, any key's valid signature passes: pin the
 * reviewer's). Returns what the signature says of its signer. Check `assertUsablePlan` first: it
 * proves the digest is the content's.
 */
export function assertSignedPlan(plan: CapturePlan, options: { publicKeyPem?: string } = {}, name = 'plan'): string {
  const refuse = (message: string) =>
    new BadInputError({ field: name === 'plan' ? 'plan.signature' : `${name}: signature`, message });
  if (!plan.signature) throw refuse('the plan is not signed (sign it with `evidence plan --sign-key`)');
  const record = plan.signature;
  if (!isSignatureRecord(record)) throw refuse('is not a signature record (holdfast/signature@2)');
  const checked = checkSignature(record, {
    kind: 'plan',
    incident: plan.incident,
    recordSha256: planDigest(plan),
    ...(options.publicKeyPem ? { pinnedPublicKeyPem: options.publicKeyPem } : {}),
  });
  if (!checked.ok) throw refuse(checked.detail);
  return checked.detail;
}
