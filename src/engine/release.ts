/**
 * Release: undo recorded containment exactly, from the journal, and journal the release. Evidence,
 * isolation groups, policies and snapshots stay; nothing is deleted.
 */
import { existsSync } from 'node:fs';
import { appendCustody } from '../evidence/custody.js';
import { BadInputError, StateWriteError } from '../core/errors.js';
import { describeFailure } from './registry.js';
import { assertIncidentId } from '../core/incident-id.js';
import type { CaptureEvent } from '../core/events.js';
import { journalPath, resolveStateDir } from './state-dir.js';
import type { JournalState } from '../evidence/journal-state.js';
import { assertSignerContinues, unsealedTail } from '../evidence/seals.js';
import { signerRef, type Signer } from '../evidence/signing.js';
import { sealRelease } from './seal.js';
import { IncidentRun } from './run.js';
import { rolesEvent, type RolesInput } from './roles.js';
import { foldRoles } from '../evidence/roles.js';
import { incidentsHolding } from './other-incidents.js';
import type {
  Case,
  ChangeRecord,
  Clients,
  EvidenceStore,
  Provider,
  ReleaseContext,
  ReleaseResult,
} from '../core/types.js';

export interface ReleaseOptions {
  incident: string;
  /** Also restore preservation changes (protection flags), not only containment. */
  restoreProtection?: boolean;
  providers?: readonly Provider[];
  store?: EvidenceStore;
  stateDir?: string;
  clients?: Clients;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: (event: CaptureEvent) => void;
  /** The case, when the journal is not at hand to supply it (region, store). */
  kase?: Case;
  /**
   * List what release would undo, from the journal, and what providers predict it would lead to
   * (read-only calls only); change nothing and write no journal line.
   */
  dryRun?: boolean;
  /** Signs the release record (required when the capture was signed: the same key). */
  signer?: Signer;
  /** Hand workloads back to their controllers even where one is predicted to delete them (see ReleaseContext). */
  readopt?: boolean;
  /** Who holds the incident's roles, journaled with the release when it changes them. */
  roles?: RolesInput;
  /**
   * Also lift credential containment (revoked role sessions, deactivated access keys). By default
   * release restores service and leaves stolen credentials off; providers say so per change.
   */
  restoreCredentials?: boolean;
}

export interface ReleaseOutcome {
  incident: string;
  status: 'complete' | 'partial' | 'nothing-to-release' | 'dry-run';
  restored: ChangeRecord[];
  /** With `dryRun`: the changes release would undo, newest first (each is checked against its current state when run). */
  wouldRestore?: ChangeRecord[];
  /** With `dryRun`: the changes release would leave alone as things are now, and why (providers' checkRelease). */
  wouldLeave?: { change: ChangeRecord; note: string }[];
  /** Changes release left as they are (changed since capture, gone, evidence kept), each with why; not failures. */
  leftAlone: { change: ChangeRecord; note: string }[];
  /** With `dryRun`: what providers predict releasing would lead to (e.g. a controller deleting a pod). */
  predictions?: string[];
  failed: { change: ChangeRecord; code: string; message: string }[];
  notes: { changeId: string; note: string }[];
  journalKey?: string;
  /** The local journal release read and appended to. */
  journalPath?: string;
}

/** Undo every reversible change recorded for the incident that has not been released yet. */
export async function releaseContainment(options: ReleaseOptions): Promise<ReleaseOutcome> {
  const { incident } = options;
  const path = findJournal(options);
  const run = new IncidentRun(options);
  await run.open({ mode: 'release' });
  try {
    const { journal } = run;
    const state = journal.fold.state();
    const kase = caseOf(state, options);
    const ctx = await releaseContext(run, kase, options);
    const store = run.storeFor(kase);
    const pending = pendingChanges(state, Boolean(options.restoreProtection));
    const outcome: ReleaseOutcome = {
      incident,
      status: 'complete',
      restored: [],
      leftAlone: [],
      failed: [],
      notes: [],
      journalPath: path,
    };
    const tail = unsealedTail(journal.events);
    const releaseTail = tail.length > 0 && tail.some((e) => e.type.startsWith('release.'));
    if (!pending.length && !(releaseTail && !options.dryRun)) return { ...outcome, status: 'nothing-to-release' };
    if (options.dryRun) return dryRunRelease(run, pending, ctx, outcome);
    // Checked before any change: a signed incident's release record is signed with the same key.
    const signer = options.signer ? await signerRef(options.signer) : undefined;
    assertSignerContinues(journal.events, signer, incident);
    const sealWith = {
      journal,
      store,
      emit: run.emit.bind(run),
      ...(options.signer ? { signer: options.signer } : {}),
    };
    if (!pending.length) {
      // An earlier release stopped before its seal: seal what it journaled, so nothing stays unvouched.
      const sealed = await sealRelease(incident, sealWith);
      return { ...outcome, status: 'nothing-to-release', journalKey: sealed.journalKey };
    }
    run.emit({ type: 'release.started', changes: pending.length, ...(signer ? { signer } : {}) });
    const roles = options.roles ? rolesEvent(options.roles, foldRoles(journal.events)) : undefined;
    if (roles) run.emit(roles);
    await undoChanges(run, pending, ctx, outcome);
    run.emit({ type: 'release.finished', restored: outcome.restored.length, failed: outcome.failed.length });
    const { journalKey } = await sealRelease(incident, sealWith);
    await recordCustody(store, outcome, journalKey, options.signer);
    return { ...outcome, status: outcome.failed.length ? 'partial' : 'complete', journalKey };
  } finally {
    await run.close();
  }
}

/** The case release works in: the caller's, else the one the journal's last capture ran. */
function caseOf(state: JournalState, options: ReleaseOptions): Case {
  const kase = options.kase ?? state.lastStart?.case;
  if (kase) return kase;
  throw new BadInputError({
    field: 'incident',
    message: `${options.incident}: the journal has no capture`,
    continues: true,
  });
}

/** `release --dry-run`: the same judgement the run makes, read-only: what is still as holdfast left it is restored. */
async function dryRunRelease(
  run: IncidentRun,
  pending: ChangeRecord[],
  ctx: ReleaseContext,
  outcome: ReleaseOutcome,
): Promise<ReleaseOutcome> {
  const wouldLeave = await checkLeftAlone(run, pending, ctx);
  const left = new Set(wouldLeave.map((l) => l.change.id));
  return {
    ...outcome,
    status: 'dry-run',
    wouldRestore: pending.filter((c) => !left.has(c.id)),
    wouldLeave,
    predictions: await predict(run, pending, ctx),
  };
}

/** What providers get to release with: the run's context and the caller's release choices. */
async function releaseContext(run: IncidentRun, kase: Case, options: ReleaseOptions): Promise<ReleaseContext> {
  const holding = incidentsHolding(resolveStateDir(options.stateDir, options.env ?? process.env), options.incident);
  return {
    ...(await run.context(kase)),
    restoreProtection: Boolean(options.restoreProtection),
    readopt: Boolean(options.readopt),
    restoreCredentials: Boolean(options.restoreCredentials),
    heldByOtherIncidents: async (match: (change: ChangeRecord) => boolean) => holding(match),
    progress: () => {},
  };
}

/** The incident's local journal path; without it, the store (or the case naming it) must be given to read it from. */
function findJournal(options: ReleaseOptions): string {
  // The id becomes a journal path and store keys: a caller's bad id is named, never used.
  assertIncidentId(options.incident);
  const path = journalPath(resolveStateDir(options.stateDir, options.env ?? process.env), options.incident);
  if (!existsSync(path) && !options.store && !options.kase)
    throw new BadInputError({
      field: 'incident',
      message: `${options.incident}: no journal at ${path}; give the evidence store (\`store\`) to read it from there`,
      continues: true,
    });
  return path;
}

/** The custody log's entry for this release: what was restored, what failed, and the sealed journal copy. */
async function recordCustody(
  store: EvidenceStore,
  outcome: ReleaseOutcome,
  journalKey: string,
  signer: Signer | undefined,
): Promise<void> {
  const entry = {
    restored: outcome.restored.map((c) => c.id),
    failed: outcome.failed.map((f) => f.change.id),
    journalKey,
  };
  await appendCustody(store, outcome.incident, 'release', entry, signer ? { signer } : {});
}

/** Changes release undoes, newest first (stacked changes unwind cleanly); protection only when asked. */
function pendingChanges(state: JournalState, restoreProtection: boolean): ChangeRecord[] {
  return state.changes
    .filter((c) => (c.reversible || restoreProtection) && !state.released.get(c.id)?.restored)
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

/** The changes providers say release would leave alone now, and why (read-only). */
async function checkLeftAlone(
  run: IncidentRun,
  pending: ChangeRecord[],
  ctx: ReleaseContext,
): Promise<{ change: ChangeRecord; note: string }[]> {
  const left: { change: ChangeRecord; note: string }[] = [];
  for (const provider of run.providers) {
    const mine = pending.filter((c) => c.provider === provider.id);
    if (!provider.checkRelease || !mine.length) continue;
    for (const { changeId, note } of await provider.checkRelease(mine, ctx)) {
      const change = mine.find((c) => c.id === changeId);
      if (change) left.push({ change, note });
    }
  }
  return left;
}

/** What providers predict releasing these changes would lead to (read-only). */
async function predict(run: IncidentRun, pending: ChangeRecord[], ctx: ReleaseContext): Promise<string[]> {
  const predictions: string[] = [];
  for (const provider of run.providers) {
    const mine = pending.filter((c) => c.provider === provider.id);
    const release = provider.release;
    if (release && 'predict' in release && release.predict && mine.length)
      predictions.push(...(await release.predict(mine, ctx)));
  }
  return predictions;
}

/** Undo each change through its provider (a provider that releases `many` gets all of its own at once), journaling each result. */
async function undoChanges(
  run: IncidentRun,
  pending: ChangeRecord[],
  ctx: ReleaseContext,
  outcome: ReleaseOutcome,
): Promise<void> {
  const { journal } = run;
  const settle = (change: ChangeRecord, result: ReleaseResult) => {
    if (result.error) {
      run.emit({ type: 'release.failed', changeId: change.id, resource: change.resource, ...result.error });
      outcome.failed.push({ change, ...result.error });
      return;
    }
    run.emit({
      type: 'change.released',
      changeId: change.id,
      resource: change.resource,
      attribute: change.attribute,
      restored: result.restored,
      ...(result.note ? { note: result.note } : {}),
      ...(result.kept ? { kept: true } : {}),
    });
    if (result.restored) outcome.restored.push(change);
    else outcome.leftAlone.push({ change, note: result.note ?? 'left as it is' });
    if (result.note) outcome.notes.push({ changeId: change.id, note: result.note });
  };
  const failure = (change: ChangeRecord, error: unknown): ReleaseResult => {
    const e = describeFailure(error);
    return { changeId: change.id, restored: false, error: { code: e.code, message: e.message } };
  };
  // A journal that cannot take the record stops the release: nothing more is changed unrecorded.
  const rethrowJournalFailure = (error: unknown) => {
    if (error instanceof StateWriteError || journal.failure) throw journal.failure ?? error;
  };
  const together = new Set<string>();
  for (const change of pending) {
    const release = run.providers.find((p) => p.id === change.provider)?.release;
    if (release && 'many' in release) {
      // All of this provider's changes at once, the first time one of them comes up.
      if (together.has(change.provider)) continue;
      together.add(change.provider);
      const changes = pending.filter((c) => c.provider === change.provider);
      let results: ReleaseResult[];
      try {
        results = await release.many(changes, ctx);
      } catch (error) {
        rethrowJournalFailure(error);
        results = changes.map((c) => failure(c, error));
      }
      for (const c of changes)
        settle(
          c,
          results.find((r) => r.changeId === c.id) ??
            failure(c, new Error(`${change.provider} gave no result for ${c.id}`)),
        );
      continue;
    }
    try {
      if (!release) throw new BadInputError(`provider ${change.provider} cannot release ${change.attribute}`);
      settle(change, { changeId: change.id, ...(await release.one(change, ctx)) });
    } catch (error) {
      rethrowJournalFailure(error);
      settle(change, failure(change, error));
    }
  }
}
