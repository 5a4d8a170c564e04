/**
 * Release: undo recorded containment exactly, from the journal, and journal the release. Evidence,
 * isolation groups, policies and snapshots stay; nothing is deleted.
 */
import { existsSync } from 'node:fs';
import { appendCustody } from '../evidence/custody.js';
import { dirname } from 'node:path';
import { BadInputError, describeError, StateWriteError } from '../core/errors.js';
import { assertStateDirUsable } from './state-dir-check.js';
import { EventFanout, type CaptureEvent, type CaptureEventBody } from '../core/events.js';
import { restoreJournalFromStore } from './execute.js';
import { journalPath, resolveStateDir } from './state-dir.js';
import { lockIncident } from './incident-lock.js';
import { Journal } from '../evidence/journal.js';
import { deriveJournalState } from '../evidence/journal-state.js';
import { builtinProviders, providerClients, storeForCase } from './registry.js';
import { assertSignerContinues, unsealedTail } from '../evidence/seals.js';
import { signerRef, type Signer } from '../evidence/signing.js';
import { sealRelease } from './seal.js';
import type { Case, ChangeRecord, EvidenceStore, Provider, ProviderContext } from '../core/types.js';

export interface ReleaseOptions {
  incident: string;
  /** Also restore preservation changes (protection flags), not only containment. */
  restoreProtection?: boolean;
  providers?: readonly Provider[];
  store?: EvidenceStore;
  stateDir?: string;
  clients?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: (event: CaptureEvent) => void;
  /** The case, when the journal is not at hand to supply it (region, store). */
  kase?: Case;
  /** List what release would undo, from the journal, and change nothing (no provider call, no journal line). */
  dryRun?: boolean;
  /** Signs the release record (required when the capture was signed: the same key). */
  signer?: Signer;
}

export interface ReleaseOutcome {
  incident: string;
  status: 'complete' | 'partial' | 'nothing-to-release' | 'dry-run';
  restored: ChangeRecord[];
  /** With `dryRun`: the changes release would undo, newest first (each is checked against its current state when run). */
  wouldRestore?: ChangeRecord[];
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
  const path = journalPath(resolveStateDir(options.stateDir, env), options.incident);
  if (!existsSync(path) && !options.store && !options.kase) {
    throw new BadInputError(
      `bad input: --incident ${options.incident}: no journal at ${path}; pass --store to read it from the evidence store`,
    );
  }
  let kase = options.kase;
  const clients = options.clients ?? {};
  if (options.store) await restoreJournalFromStore(path, options.incident, options.store);
  if (!existsSync(path))
    throw new BadInputError(`bad input: --incident ${options.incident}: no journal found locally or in the store`);
  assertStateDirUsable(dirname(path));
  const unlock = lockIncident(path, options.incident);
  let journal: Journal;
  try {
    journal = Journal.open(path, options.incident);
  } catch (error) {
    unlock();
    throw error;
  }
  try {
    const state = deriveJournalState(journal.events);
    const started = [...journal.events].reverse().find((e) => e.type === 'capture.started');
    kase ??= started && started.type === 'capture.started' ? started.case : undefined;
    if (!kase) throw new BadInputError(`bad input: --incident ${options.incident}: the journal has no capture`);
    const ctx: ProviderContext = {
      incident: options.incident,
      kase,
      signal: options.signal ?? new AbortController().signal,
      clients: await providerClients(kase, env, clients),
      env,
      dryRun: false,
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
    if (options.dryRun) return { ...outcome, status: 'dry-run', wouldRestore: pending };
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

    emit({ type: 'release.started', changes: pending.length, ...(signer ? { signer } : {}) });
    for (const change of pending) {
      const provider = providers.find((p) => p.id === change.provider);
      try {
        if (!provider?.release)
          throw new BadInputError(`provider ${change.provider} cannot release ${change.attribute}`);
        const result = await provider.release(change, {
          ...ctx,
          restoreProtection: Boolean(options.restoreProtection),
          progress: () => {},
        });
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
      } catch (error) {
        // A journal that cannot take the record stops the release: nothing more is changed unrecorded.
        if (error instanceof StateWriteError || journal.failure) throw journal.failure ?? error;
        const e = describeError(error);
        emit({
          type: 'release.failed',
          changeId: change.id,
          resource: change.resource,
          code: e.code,
          message: e.message,
        });
        outcome.failed.push({ change, code: e.code, message: e.message });
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
    journal.close();
    unlock();
  }
}
