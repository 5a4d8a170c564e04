/**
 * Release: undo recorded containment exactly, from the journal, and journal the release. Evidence,
 * isolation groups, policies and snapshots stay; nothing is deleted.
 */
import { existsSync } from 'node:fs';
import { appendCustody } from '../evidence/custody.js';
import { BadInputError, StateWriteError } from '../core/errors.js';
import { assertIncidentId } from '../core/incident-id.js';
import { EventFanout, type CaptureEvent, type CaptureEventBody } from '../core/events.js';
import { journalPath, resolveStateDir } from './state-dir.js';
import { openIncident } from './open-incident.js';
import { deriveJournalState } from '../evidence/journal-state.js';
import { builtinProviders, describeFailure, providerClients, storeForCase } from './registry.js';
import { assertSignerContinues, unsealedTail } from '../evidence/seals.js';
import { signerRef, type Signer } from '../evidence/signing.js';
import { sealRelease } from './seal.js';
import { runScope } from './run-scope.js';
import type {
  Case,
  ChangeRecord,
  Clients,
  EvidenceStore,
  Provider,
  ProviderContext,
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
}

export interface ReleaseOutcome {
  incident: string;
  status: 'complete' | 'partial' | 'nothing-to-release' | 'dry-run';
  restored: ChangeRecord[];
  /** With `dryRun`: the changes release would undo, newest first (each is checked against its current state when run). */
  wouldRestore?: ChangeRecord[];
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
  const env = options.env ?? process.env;
  const providers = options.providers ?? builtinProviders;
  // The id becomes a journal path and store keys: a caller's bad id is named, never used.
  assertIncidentId(options.incident);
  const path = journalPath(resolveStateDir(options.stateDir, env), options.incident);
  if (!existsSync(path) && !options.store && !options.kase) {
    throw new BadInputError({
      field: 'incident',
      message: `${options.incident}: no journal at ${path}; give the evidence store (\`store\`) to read it from there`,
      continues: true,
    });
  }
  let kase = options.kase;
  const clients = options.clients ?? {};
  const opened = await openIncident({
    mode: 'release',
    incident: options.incident,
    stateDir: options.stateDir,
    env,
    store: options.store,
  });
  const { journal } = opened;
  try {
    const state = deriveJournalState(journal.events);
    const started = [...journal.events].reverse().find((e) => e.type === 'capture.started');
    kase ??= started && started.type === 'capture.started' ? started.case : undefined;
    if (!kase)
      throw new BadInputError({
        field: 'incident',
        message: `${options.incident}: the journal has no capture`,
        continues: true,
      });
    const ctx: ProviderContext = {
      incident: options.incident,
      kase,
      signal: options.signal ?? new AbortController().signal,
      clients: await providerClients(kase, env, clients),
      env,
      dryRun: false,
      run: runScope(),
    };
    const store = options.store ?? storeForCase(kase, env, clients);
    const fanout = new EventFanout();
    fanout.subscribe(options.onEvent);
    const emit = (body: CaptureEventBody) => fanout.emit(journal.append(body));

    const pending = state.changes
      .filter((c) => (c.reversible || options.restoreProtection) && !state.released.get(c.id)?.restored)
      // Undo in reverse order of change, so stacked changes unwind cleanly.
      .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
    const outcome: ReleaseOutcome = {
      incident: options.incident,
      status: 'complete',
      restored: [],
      failed: [],
      notes: [],
      journalPath: path,
    };
    const tail = unsealedTail(journal.events);
    const releaseTail = tail.length > 0 && tail.some((e) => e.type.startsWith('release.'));
    if (!pending.length && !(releaseTail && !options.dryRun)) return { ...outcome, status: 'nothing-to-release' };
    const releaseCtx = {
      ...ctx,
      restoreProtection: Boolean(options.restoreProtection),
      readopt: Boolean(options.readopt),
      progress: () => {},
    };
    const byProvider = (id: string) => pending.filter((c) => c.provider === id);
    if (options.dryRun) {
      const predictions: string[] = [];
      for (const provider of providers)
        if (provider.predictRelease && byProvider(provider.id).length)
          predictions.push(...(await provider.predictRelease(byProvider(provider.id), releaseCtx)));
      return { ...outcome, status: 'dry-run', wouldRestore: pending, predictions };
    }
    // Checked before any change: a signed incident's release record is signed with the same key.
    const signer = options.signer ? await signerRef(options.signer) : undefined;
    assertSignerContinues(journal.events, signer, options.incident);
    if (!pending.length) {
      // An earlier release stopped before its seal: seal what it journaled, so nothing stays unvouched.
      const sealed = await sealRelease(options.incident, {
        journal,
        store,
        emit,
        ...(options.signer ? { signer: options.signer } : {}),
      });
      return { ...outcome, status: 'nothing-to-release', journalKey: sealed.journalKey };
    }

    const settle = (change: ChangeRecord, result: ReleaseResult) => {
      if (result.error) {
        emit({ type: 'release.failed', changeId: change.id, resource: change.resource, ...result.error });
        outcome.failed.push({ change, ...result.error });
        return;
      }
      emit({
        type: 'change.released',
        changeId: change.id,
        resource: change.resource,
        attribute: change.attribute,
        restored: result.restored,
        ...(result.note ? { note: result.note } : {}),
      });
      if (result.restored) outcome.restored.push(change);
      if (result.note) outcome.notes.push({ changeId: change.id, note: result.note });
    };
    const failure = (change: ChangeRecord, error: unknown): ReleaseResult => {
      const e = describeFailure(error);
      return { changeId: change.id, restored: false, error: { code: e.code, message: e.message } };
    };
    emit({ type: 'release.started', changes: pending.length, ...(signer ? { signer } : {}) });
    const together = new Set<string>();
    for (const change of pending) {
      const provider = providers.find((p) => p.id === change.provider);
      if (provider?.releaseMany) {
        // All of this provider's changes at once, the first time one of them comes up.
        if (together.has(provider.id)) continue;
        together.add(provider.id);
        const changes = byProvider(provider.id);
        let results: ReleaseResult[] = [];
        try {
          results = await provider.releaseMany(changes, releaseCtx);
        } catch (error) {
          if (error instanceof StateWriteError || journal.failure) throw journal.failure ?? error;
          results = changes.map((c) => failure(c, error));
        }
        for (const c of changes)
          settle(
            c,
            results.find((r) => r.changeId === c.id) ??
              failure(c, new Error(`${provider.id} gave no result for ${c.id}`)),
          );
        continue;
      }
      try {
        if (!provider?.release)
          throw new BadInputError(`provider ${change.provider} cannot release ${change.attribute}`);
        settle(change, { changeId: change.id, ...(await provider.release(change, releaseCtx)) });
      } catch (error) {
        // A journal that cannot take the record stops the release: nothing more is changed unrecorded.
        if (error instanceof StateWriteError || journal.failure) throw journal.failure ?? error;
        settle(change, failure(change, error));
      }
    }
    emit({ type: 'release.finished', restored: outcome.restored.length, failed: outcome.failed.length });
    const { journalKey } = await sealRelease(options.incident, {
      journal,
      store,
      emit,
      ...(options.signer ? { signer: options.signer } : {}),
    });
    await appendCustody(
      store,
      options.incident,
      'release',
      {
        restored: outcome.restored.map((c) => c.id),
        failed: outcome.failed.map((f) => f.change.id),
        journalKey,
      },
      options.signer ? { signer: options.signer } : {},
    );
    return { ...outcome, status: outcome.failed.length ? 'partial' : 'complete', journalKey };
  } finally {
    opened.close();
  }
}
