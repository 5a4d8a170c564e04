/**
 * `handleFinding`: one finding → a decision → (for contain and collect) a capture of the incident
 * its resource belongs to, through the public library API (planCapture, executePlan). The same path
 * serves the daemon, a chat bot and a test; nothing here knows about queues.
 */
import { planCapture, executePlan, IncidentBusyError, type CaptureOutcome, type ExecuteOptions } from '../index.js';
import type { CaptureEvent } from '../core/events.js';
import type { Clients, Provider } from '../core/types.js';
import type { Finding } from './finding.js';
import { caseForFinding, incidentFor } from './incident-for.js';
import { decideFinding, type Decision, type WatchRules } from './rules.js';
import type { IncidentLeases } from './lease.js';
import { captureNotifiers, postFindingNotice, type WatchWebhook } from './sitreps.js';

/** What `handleFinding` needs; everything but rules and store is optional and injectable. */
export interface HandleOptions {
  rules: WatchRules;
  /** The evidence store, as `--store` takes it (s3://bucket/prefix or a directory). */
  store: string;
  stateDir?: string;
  env?: NodeJS.ProcessEnv;
  clients?: Clients;
  providers?: readonly Provider[];
  signal?: AbortSignal;
  onEvent?: (event: CaptureEvent) => void;
  retry?: ExecuteOptions['retry'];
  concurrency?: number;
  /**
   * Per-incident leases shared by the replicas: the capture runs only while this replica holds the
   * incident's lease, and its journal is fenced by the lease's generation.
   */
  leases?: IncidentLeases;
  /** Webhooks that hear each capture's phase changes and sitrep, and each notify-only finding. */
  webhooks?: readonly WatchWebhook[];
}

/** What became of one finding. */
export interface FindingResult {
  finding: Finding;
  decision: Decision;
  /** The incident its resource belongs to (also for notify and ignore, when it names a resource). */
  incident?: string;
  /** The capture's outcome, for contain and collect. */
  outcome?: CaptureOutcome;
  /** Another run holds the incident right now (its lock or lease): try again later. */
  busy?: string;
  /** The lease generation this capture ran under, and whether it took the lease over from another replica. */
  lease?: { generation: number; takeover: boolean };
}

/** Decide a finding and, for contain and collect, capture its incident (resumed, or found sealed, when it exists). */
export async function handleFinding(finding: Finding, options: HandleOptions): Promise<FindingResult> {
  const decision = decideFinding(finding, options.rules);
  const first = finding.resources[0];
  const incident = first ? incidentFor(first) : undefined;
  const base: FindingResult = { finding, decision, ...(incident ? { incident } : {}) };
  if (decision.action === 'notify' && options.webhooks?.length)
    await postFindingNotice(options.webhooks, finding, decision, incident);
  if (decision.action !== 'contain' && decision.action !== 'collect') return base;
  const input = caseForFinding(finding, decision, options.rules, options.store);
  const common = {
    ...(options.providers ? { providers: options.providers } : {}),
    ...(options.clients ? { clients: options.clients } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const lease = options.leases ? await options.leases.acquire(input.incident) : undefined;
  if (options.leases && !lease)
    return {
      ...base,
      busy: `the lease on ${input.incident} is held by another replica (${options.leases.api.description})`,
    };
  // A lost lease stops the run: its journal already refuses every line (the fence).
  const lost = new AbortController();
  lease?.keepAlive((error) => lost.abort(error));
  const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
  try {
    const plan = await planCapture(input, { ...common, signal });
    const notifiers = options.webhooks?.length ? captureNotifiers(options.webhooks) : undefined;
    const onEvent = (event: CaptureEvent) => {
      options.onEvent?.(event);
      notifiers?.listener(event);
    };
    const outcome = await executePlan(plan, {
      ...common,
      signal,
      ...(lease ? { fence: { ...lease, assertHeld: () => fenceCheck(lease, lost) } } : {}),
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
      onEvent,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    });
    if (notifiers && outcome.status !== 'aborted' && !outcome.alreadySealed)
      await notifiers.finish(input.incident, outcome.journalPath, `${finding.source}: ${finding.title}`);
    return {
      ...base,
      outcome,
      ...(lease ? { lease: { generation: lease.generation, takeover: lease.takeover } } : {}),
    };
  } catch (error) {
    if (error instanceof IncidentBusyError) return { ...base, busy: error.message };
    throw error;
  } finally {
    await lease?.release().catch(() => undefined);
  }
}

/** The lease's check, which also stops the run the moment it fails (not only at the next renewal). */
function fenceCheck(lease: { assertHeld(): void }, lost: AbortController): void {
  try {
    lease.assertHeld();
  } catch (error) {
    lost.abort(error);
    throw error;
  }
}
