/**
 * The watch loop: long-poll each queue, turn each message into findings, handle them, and settle
 * the message — removed once every incident it asked for is sealed (or it was ignored or notified
 * with a logged reason), handed back when the daemon stops mid-capture, left to the queue's redrive
 * policy (dead-letter queue) when it cannot be read. The message stays invisible while its work
 * goes on (a visibility heartbeat).
 */
import { BadInputError, describeError, type InputProblem } from '../core/errors.js';
import type { CaptureEvent } from '../core/events.js';
import type { JsonObject } from '../core/types.js';
import { MAX_MESSAGES_PER_RECEIVE, MAX_WAIT_SECONDS, type QueueApi, type QueueMessage } from './client.js';
import { FindingRejected } from './finding.js';
import { handleFinding, type FindingResult, type HandleOptions } from './handle.js';
import { WatchMetrics } from './metrics.js';
import { normaliseMessage } from './normalise.js';
import { resourceKey } from './incident-for.js';

/** Seconds a received message stays invisible; the heartbeat renews it every third of that. */
export const DEFAULT_VISIBILITY_SECONDS = 60;
/** Messages worked on at once by one daemon. */
export const DEFAULT_MESSAGE_CONCURRENCY = 4;
/** A message whose incident another run holds comes back after this long. */
export const BUSY_RETRY_SECONDS = 5;
/** A message whose handling failed (a remote error) comes back after this long. */
export const FAILED_RETRY_SECONDS = 10;

/** One JSON log line's fields (the daemon adds `at` and `level`). */
export type WatchLog = (line: { level: 'info' | 'warn' | 'error'; msg: string } & JsonObject) => void;

export interface WatchOptions extends Omit<HandleOptions, 'signal' | 'onEvent'> {
  queues: string[];
  queueApi: QueueApi;
  /** Drain what is there, finish the work, return. */
  once?: boolean;
  /** Stop receiving; work in flight stops at a journal boundary and its message is handed back. */
  signal?: AbortSignal;
  visibilitySeconds?: number;
  messageConcurrency?: number;
  /** Long-poll wait per receive (at most 20 s). */
  waitSeconds?: number;
  log?: WatchLog;
  metrics?: WatchMetrics;
  /** Told when the loop is receiving (ready) and when it stops. */
  onReady?: () => void;
}

/** What a watch run did (the `--once` summary). */
export interface WatchSummary {
  messages: number;
  findings: number;
  removed: number;
  handedBack: number;
  rejected: number;
  incidents: string[];
}

/** Check that every queue has a dead-letter queue: without one a message nobody can read returns forever. */
export async function checkQueues(queueApi: QueueApi, queues: string[]): Promise<void> {
  const problems: InputProblem[] = [];
  await Promise.all(
    queues.map(async (url, i) => {
      const field = queues.length > 1 ? `queues[${i}]` : 'queue';
      try {
        const d = await queueApi.describe(url);
        if (!d.redrive)
          problems.push({
            field,
            message: `${url} has no RedrivePolicy: give it a dead-letter queue (maxReceiveCount 3–5), or a finding nobody can read would come back forever`,
            continues: true,
          });
      } catch (error) {
        problems.push({ field, message: `${url}: cannot be read (${describeError(error).message})`, continues: true });
      }
    }),
  );
  if (problems.length) throw new BadInputError(problems);
}

/** Run the loop until the signal stops it (or, with `once`, until the queues are empty and the work is done). */
export async function watchQueues(options: WatchOptions): Promise<WatchSummary> {
  const { queueApi, queues } = options;
  const log: WatchLog = options.log ?? (() => undefined);
  const metrics = options.metrics ?? new WatchMetrics();
  const visibility = options.visibilitySeconds ?? DEFAULT_VISIBILITY_SECONDS;
  const concurrency = options.messageConcurrency ?? DEFAULT_MESSAGE_CONCURRENCY;
  const stop = options.signal ?? new AbortController().signal;
  const summary: WatchSummary = { messages: 0, findings: 0, removed: 0, handedBack: 0, rejected: 0, incidents: [] };
  const incidents = new Set<string>();
  // One run per incident at a time in this process; the incident lock covers other processes.
  const perIncident = new Map<string, Promise<unknown>>();
  const inFlight = new Set<Promise<void>>();

  await checkQueues(queueApi, queues);
  log({ level: 'info', msg: 'watching', queues, once: Boolean(options.once) });
  options.onReady?.();

  let returnedUntil = 0;
  const settle = async (m: QueueMessage, how: 'remove' | { visibleIn: number }, why: string) => {
    try {
      if (how === 'remove') {
        await queueApi.remove(m);
        summary.removed++;
      } else {
        await queueApi.setVisibility(m, how.visibleIn);
        if (how.visibleIn === 0) summary.handedBack++;
        // With --once, a message put back for later is still this run's to drain.
        returnedUntil = Math.max(returnedUntil, Date.now() + how.visibleIn * 1000);
      }
      log({
        level: 'info',
        msg: how === 'remove' ? 'message removed' : 'message returned',
        messageId: m.messageId,
        why,
      });
    } catch (error) {
      // The receipt may have expired; the message then returns on its own after the visibility timeout.
      log({
        level: 'warn',
        msg: 'message could not be settled',
        messageId: m.messageId,
        error: describeError(error).message,
      });
    }
  };

  const serialised = <T>(incident: string | undefined, work: () => Promise<T>): Promise<T> => {
    if (!incident) return work();
    const prior = perIncident.get(incident) ?? Promise.resolve();
    const next = prior.then(work, work);
    perIncident.set(
      incident,
      next.catch(() => undefined),
    );
    return next;
  };

  const processMessage = async (m: QueueMessage): Promise<void> => {
    summary.messages++;
    const arrivedAt = m.sentAt ?? Date.now();
    metrics.gauge('holdfast_watch_queue_lag_seconds', Math.max(0, (Date.now() - arrivedAt) / 1000), {
      queue: m.queueUrl,
    });
    const heartbeat = setInterval(
      () => void queueApi.setVisibility(m, visibility).catch(() => undefined),
      Math.max(1000, (visibility * 1000) / 3),
    );
    try {
      let findings;
      try {
        findings = normaliseMessage(m.body, { cluster: options.rules.cluster });
      } catch (error) {
        if (!(error instanceof FindingRejected)) throw error;
        summary.rejected++;
        metrics.count('holdfast_watch_findings_rejected_total', { reason: error.reason });
        log({
          level: 'warn',
          msg: 'finding refused',
          messageId: m.messageId,
          reason: error.reason,
          problems: error.problems.map((p) => ({ field: p.field, message: p.message })),
          receiveCount: m.receiveCount,
        });
        // Back to the queue at once: its redrive policy moves it to the dead-letter queue at maxReceiveCount.
        await settle(
          m,
          { visibleIn: 0 },
          `refused (${error.reason}); the redrive policy moves it to the dead-letter queue`,
        );
        return;
      }
      const results: FindingResult[] = [];
      for (const finding of findings) {
        summary.findings++;
        const result = await handleOne(finding, m, arrivedAt);
        results.push(result);
      }
      if (stop.aborted || results.some((r) => r.outcome?.status === 'aborted'))
        return await settle(m, { visibleIn: 0 }, 'the daemon is stopping: handed back for another replica');
      const busy = results.find((r) => r.busy);
      if (busy)
        return await settle(m, { visibleIn: BUSY_RETRY_SECONDS }, `incident ${busy.incident} is held by another run`);
      await settle(
        m,
        'remove',
        results.map((r) => `${r.decision.action}${r.incident ? ` ${r.incident}` : ''}`).join(', '),
      );
    } catch (error) {
      const e = describeError(error);
      log({
        level: 'error',
        msg: 'message failed',
        messageId: m.messageId,
        code: e.code,
        error: e.message,
        receiveCount: m.receiveCount,
      });
      await settle(m, { visibleIn: stop.aborted ? 0 : FAILED_RETRY_SECONDS }, `failed: ${e.code}`);
    } finally {
      clearInterval(heartbeat);
    }
  };

  const handleOne = (finding: Parameters<typeof handleFinding>[0], m: QueueMessage, arrivedAt: number) => {
    const first = finding.resources[0];
    return serialised(first ? resourceKey(first) : undefined, async () => {
      const containSteps = new Set<string>();
      let contained = false;
      const onEvent = (e: CaptureEvent) => {
        if (e.type === 'step.started' && e.phase === 'contain') containSteps.add(e.stepId);
        if (e.type === 'step.done' && containSteps.has(e.stepId) && !contained) {
          contained = true;
          metrics.observeContainment((Date.now() - arrivedAt) / 1000);
        }
      };
      const result = await handleFinding(finding, { ...options, signal: stop, onEvent });
      metrics.count('holdfast_watch_findings_total', { source: finding.source, decision: result.decision.action });
      if (result.outcome) metrics.count('holdfast_watch_captures_total', { outcome: result.outcome.status });
      if (result.lease?.takeover) metrics.count('holdfast_watch_lease_takeovers_total');
      if (result.incident && result.outcome) incidents.add(result.incident);
      log({
        level: 'info',
        msg: 'finding',
        messageId: m.messageId,
        source: finding.source,
        findingId: finding.id,
        types: finding.types,
        severity: finding.severity,
        decision: result.decision.action,
        reason: result.decision.reason,
        ...(result.incident ? { incident: result.incident } : {}),
        ...(result.outcome
          ? {
              status: result.outcome.status,
              alreadySealed: Boolean(result.outcome.alreadySealed),
              ...(result.outcome.manifestKey ? { manifestKey: result.outcome.manifestKey } : {}),
              failures: result.outcome.failures.length,
            }
          : {}),
        ...(result.busy ? { busy: result.busy } : {}),
        ...(result.lease ? { leaseGeneration: result.lease.generation, takeover: result.lease.takeover } : {}),
      });
      return result;
    });
  };

  let idleRounds = 0;
  while (!stop.aborted) {
    let received = 0;
    for (const queueUrl of queues) {
      if (stop.aborted) break;
      const free = concurrency - inFlight.size;
      if (free <= 0) {
        await Promise.race(inFlight);
        break;
      }
      let messages: QueueMessage[] = [];
      try {
        messages = await queueApi.receive(
          queueUrl,
          {
            max: Math.min(free, MAX_MESSAGES_PER_RECEIVE),
            waitSeconds: options.once ? 1 : Math.min(options.waitSeconds ?? MAX_WAIT_SECONDS, MAX_WAIT_SECONDS),
            visibilitySeconds: visibility,
          },
          stop,
        );
      } catch (error) {
        if (stop.aborted) break;
        log({ level: 'error', msg: 'receive failed', queue: queueUrl, error: describeError(error).message });
        await new Promise((r) => setTimeout(r, 1000));
      }
      received += messages.length;
      for (const m of messages) {
        const p: Promise<void> = processMessage(m).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    }
    if (options.once) {
      if (received === 0 && inFlight.size === 0 && Date.now() > returnedUntil) idleRounds++;
      else idleRounds = 0;
      // Two empty rounds in a row with nothing in flight: what was there is drained.
      if (idleRounds >= 2) break;
      if (received === 0 && inFlight.size) await Promise.race(inFlight);
    }
  }
  await Promise.allSettled(inFlight);
  log({ level: 'info', msg: 'stopped', ...summary, incidents: [...incidents] });
  summary.incidents = [...incidents].sort();
  return summary;
}
