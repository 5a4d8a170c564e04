/**
 * One incident run as a value you hold: it opens the incident under its lock, is the one path every
 * event takes (journal, then disk, then listeners), owns the abort (the caller's signal, a journal
 * that stops taking lines, the grace period for calls in flight) and the scope providers share state
 * through. `executePlan`, `dryRun` and `releaseContainment` compose it; a daemon holds one per
 * incident, and two runs in one process share nothing but the process's AWS rate limits.
 */
import {
  EventFanout,
  progressEmitter,
  type CaptureEvent,
  type CaptureEventBody,
  type ProgressEvent,
} from '../core/events.js';
import { InternalError } from '../core/errors.js';
import { Journal } from '../evidence/journal.js';
import { openIncident, type OpenIncident } from './open-incident.js';
import { providerClients, storeForCase } from './registry.js';
import { runScope } from './run-scope.js';
import { builtinProviders } from './registry.js';
import type { Case, Clients, EvidenceStore, Provider, ProviderContext, RunScope, Step } from '../core/types.js';

/** After Ctrl-C, calls still in flight get this long; their intents are journaled, so a re-run reconciles them. */
export const ABORT_GRACE_MS = 1_500;

/** What a run is given; everything but the incident is optional and injectable. */
export interface RunOptions {
  incident: string;
  providers?: readonly Provider[] | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** The caller's clients: providers get these plus what credential kits add; the store gets these alone. */
  clients?: Clients | undefined;
  /** The evidence store (default: the case's). */
  store?: EvidenceStore | undefined;
  /** Where the local journal lives (see resolveStateDir). */
  stateDir?: string | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: CaptureEvent) => void) | undefined;
  /** Live progress (bytes, percent, what is being waited on, warnings); not journaled. */
  onProgress?: ((progress: ProgressEvent) => void) | undefined;
  /** The steps the run carries out (providers read them as `ctx.run.steps`). */
  steps?: readonly Step[] | undefined;
  /** A lease fencing this run's journal: every line is refused once it is no longer held. */
  fence?: IncidentFence | undefined;
}

/** A fencing token: who holds the incident's lease, its generation, and a check that it is still held. */
export interface IncidentFence {
  holder: string;
  generation: number;
  /** Throws when the lease is no longer this run's (lost, expired, taken over). */
  assertHeld(): void;
}

/** One incident run: see the module comment. */
export class IncidentRun {
  readonly incident: string;
  readonly providers: readonly Provider[];
  readonly env: NodeJS.ProcessEnv;
  /** What providers share within this run, and only within it. */
  readonly scope: RunScope;
  /** Aborted by the caller's signal, by `abort`, or by a journal that stopped taking lines. */
  readonly signal: AbortSignal;
  /** Live progress, not journaled. */
  readonly progress: (p: Omit<ProgressEvent, 'type' | 'at' | 'incident'>) => void;
  readonly #options: RunOptions;
  readonly #stop = new AbortController();
  readonly #fanout = new EventFanout();
  #told: Promise<void> = Promise.resolve();
  #opened: OpenIncident | undefined;
  #journal: Journal | undefined;
  /** Capture writes lines at once and fsyncs them in groups; release and dry runs make each line durable as it is written. */
  #groupCommit = false;

  constructor(options: RunOptions) {
    this.#options = options;
    this.incident = options.incident;
    this.providers = options.providers ?? builtinProviders;
    this.env = options.env ?? process.env;
    this.scope = runScope(options.steps ?? []);
    this.signal = options.signal ? AbortSignal.any([options.signal, this.#stop.signal]) : this.#stop.signal;
    this.progress = progressEmitter(options.incident, options.onProgress);
    this.#fanout.subscribe(options.onEvent);
  }

  /** Open the incident's journal under its lock: to capture `kase`, or to release what the journal holds. */
  async open(how: { mode: 'capture'; kase: Case; store: EvidenceStore } | { mode: 'release' }): Promise<void> {
    const { stateDir, env } = { ...this.#options, env: this.env };
    this.#opened =
      how.mode === 'capture'
        ? await openIncident({
            mode: 'capture',
            incident: this.incident,
            kase: how.kase,
            stateDir,
            env,
            store: how.store,
          })
        : await openIncident({ mode: 'release', incident: this.incident, stateDir, env, store: this.#options.store });
    this.#journal = this.#opened.journal;
    this.#groupCommit = how.mode === 'capture';
  }

  /** A dry run's journal: in memory only, so nothing is written. */
  openInMemory(): void {
    this.#journal = Journal.inMemory(this.incident);
  }

  get journal(): Journal {
    if (!this.#journal) throw new InternalError(`run of ${this.incident}: the journal is not open`);
    return this.#journal;
  }

  /** The local journal file (undefined for a dry run). */
  get journalPath(): string | undefined {
    return this.#opened?.path;
  }

  /** The one way an event is recorded: journaled, then on disk, then told to listeners. */
  emit(body: CaptureEventBody): CaptureEvent {
    const journal = this.journal;
    let line: CaptureEvent;
    try {
      this.#options.fence?.assertHeld();
    } catch (error) {
      // A stale holder: nothing more is written, and the run stops.
      if (!this.#stop.signal.aborted) this.#stop.abort(error);
      throw error;
    }
    try {
      line = this.#groupCommit ? journal.write(body) : journal.append(body);
    } catch (error) {
      this.#stopOnJournalFailure();
      throw error;
    }
    if (!this.#groupCommit) this.#fanout.emit(line);
    else
      this.#told = this.durable().then(
        () => this.#fanout.emit(line),
        () => undefined,
      );
    return line;
  }

  /** Resolves once every line emitted so far is on disk; a journal that cannot be written stops the run. */
  durable(): Promise<void> {
    return this.journal.durable().catch((error: unknown) => {
      this.#stopOnJournalFailure();
      throw error;
    });
  }

  /** Stop the run: steps see `signal` aborted; calls in flight get the grace period (`within`). */
  abort(reason?: unknown): void {
    if (!this.#stop.signal.aborted) this.#stop.abort(reason);
  }

  /** A journal that cannot be written stops every step: none may make a change it cannot record. */
  #stopOnJournalFailure(): void {
    const failure = this.#journal?.failure;
    if (failure) this.abort(failure);
  }

  /** `running`'s result or, once the run is aborted, `partial()` after `graceMs` (whatever settled by then). */
  within<T>(running: Promise<T>, partial: () => T, graceMs = ABORT_GRACE_MS): Promise<T> {
    // Work abandoned after the grace may still fail (the journal is closed by then): nobody awaits it.
    running.catch(() => undefined);
    const cut = new Promise<T>((resolveCut) => {
      const onAbort = () => setTimeout(() => resolveCut(partial()), graceMs).unref();
      if (this.signal.aborted) onAbort();
      else this.signal.addEventListener('abort', onAbort, { once: true });
    });
    return Promise.race([running, cut]);
  }

  /** The context providers get for `kase`: the caller's clients plus what credential kits add (an assumed role). */
  async context(kase: Case, dryRun = false): Promise<ProviderContext> {
    return {
      incident: this.incident,
      kase,
      signal: this.signal,
      clients: await providerClients(kase, this.env, this.#options.clients ?? {}),
      env: this.env,
      dryRun,
      run: this.scope,
    };
  }

  /** The evidence store: the caller's, else the case's, reached with the caller's own credentials. */
  storeFor(kase: Case): EvidenceStore {
    return this.#options.store ?? storeForCase(kase, this.env, this.#options.clients ?? {});
  }

  /** The caller's clients as given (identity look-ups and the store use them, not an assumed role). */
  get callerClients(): Clients {
    return this.#options.clients ?? {};
  }

  /** Every listener hears every line, then the journal is closed and the lock released. */
  async close(): Promise<void> {
    if (this.#journal && this.#groupCommit) await this.durable().catch(() => undefined);
    await this.#told;
    this.#opened?.close();
  }
}
