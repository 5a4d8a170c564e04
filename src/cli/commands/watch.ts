/** `evidence watch`: turn findings from SQS queues into sealed evidence and containment, unattended. */
import type { Command } from 'commander';
import { awsClientConfig } from '../../aws/config.js';
import { BadInputError, type InputProblem } from '../../core/errors.js';
import { parseStoreSpec } from '../../engine/case.js';
import { hostname } from 'node:os';
import { createKubeLeaseApi, createQueueApi } from '../../watch/client.js';
import { DEFAULT_LEASE_SECONDS, IncidentLeases } from '../../watch/lease.js';
import { watchQueues, DEFAULT_VISIBILITY_SECONDS, DEFAULT_MESSAGE_CONCURRENCY } from '../../watch/daemon.js';
import { serveHealth } from '../../watch/http.js';
import { WatchMetrics } from '../../watch/metrics.js';
import { readWatchRules } from '../../watch/rules.js';
import type { WatchWebhook } from '../../watch/sitreps.js';
import { webhookUrl } from '../sitrep-output.js';
import { ABORT_EXIT_DELAY_MS, STATE_DIR_HELP } from '../run-plan.js';
import { EXIT } from '../exit-codes.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `host:port` or `port` for the health and metrics endpoints. */
function parseListen(value: string, problems: InputProblem[]): { host: string; port: number } | undefined {
  const m = /^(?:([\w.-]+|\[[\d:a-f]+\]):)?(\d{1,5})$/i.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    problems.push({ field: 'listen', message: `expected host:port or port, got ${JSON.stringify(value)}` });
    return undefined;
  }
  return { host: m[1] ?? '127.0.0.1', port };
}

function wholeNumber(
  value: unknown,
  field: string,
  min: number,
  max: number,
  problems: InputProblem[],
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push({ field, message: `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}` });
    return undefined;
  }
  return n;
}

/** Register `watch`. */
export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description(
      'long-poll SQS queues for GuardDuty, Security Hub and Falco findings and capture requests; capture each affected resource as one incident, per the rules file',
    )
    .option(
      '--queue <url>',
      'SQS queue URL to receive findings from (repeatable; each needs a dead-letter queue)',
      collect,
    )
    .option('--rules <file>', 'watch rules (YAML; schemas/watch-rules.schema.json)')
    .option('--store <where>', 'evidence store: s3://bucket/prefix or a directory')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--once', 'drain what is in the queues, finish the work, exit')
    .option('--listen <host:port>', 'serve /healthz, /readyz and /metrics here')
    .option(
      '--visibility-timeout <seconds>',
      `how long a message stays invisible between heartbeats (default ${DEFAULT_VISIBILITY_SECONDS})`,
    )
    .option('--messages <n>', `messages worked on at once (default ${DEFAULT_MESSAGE_CONCURRENCY})`)
    .option('--region <region>', 'AWS region of the queues')
    .option(
      '--lease <where>',
      'per-incident leases shared by the replicas: k8s:NAMESPACE (coordination.k8s.io Lease objects; KUBECONFIG or in-cluster)',
    )
    .option('--lease-seconds <n>', 'how long a lease lasts without renewal (default 15)')
    .option(
      '--notify-webhook <url>',
      "POST each capture's phase changes and sitrep, and each notify-only finding, as JSON (a hooks.slack.com URL gets Slack's shape); env:NAME reads the URL from a variable (repeatable)",
      collect,
    )
    .option(
      '--notify-slack <url>',
      'the same in Slack incoming-webhook shape (text plus blocks, mrkdwn) (repeatable)',
      collect,
    )
    .option('--json', 'errors as one JSON line (logs are always JSON lines on stdout)')
    .addHelpText(
      'after',
      '\nExamples:\n  evidence watch --queue https://sqs.eu-west-1.amazonaws.com/123456789012/findings --rules watch.yaml --store s3://ir-evidence/cases\n  evidence watch --queue $Q --rules watch.yaml --store ./evidence --once',
    )
    .action(async (opts: Record<string, unknown>) => {
      const problems: InputProblem[] = [];
      const queues = (opts.queue as string[] | undefined) ?? [];
      if (!queues.length) problems.push({ field: 'queue', message: 'is required (an SQS queue URL)', continues: true });
      queues.forEach((q, i) => {
        if (!/^https?:\/\/[^\s/]+\/\d{12}\/[\w-]{1,80}(\.fifo)?$/.test(q))
          problems.push({
            field: queues.length > 1 ? `queues[${i}]` : 'queue',
            message: `${JSON.stringify(q)} is not an SQS queue URL`,
            continues: true,
          });
      });
      if (typeof opts.store !== 'string')
        problems.push({ field: 'store', message: 'is required (s3://bucket/prefix or a directory)', continues: true });
      else parseStoreSpec({ store: opts.store }, problems, process.cwd());
      if (typeof opts.rules !== 'string')
        problems.push({ field: 'rules', message: 'is required (a YAML rules file)', continues: true });
      const listen = typeof opts.listen === 'string' ? parseListen(opts.listen, problems) : undefined;
      const visibilitySeconds = wholeNumber(opts.visibilityTimeout, 'visibilityTimeout', 10, 43_200, problems);
      const messageConcurrency = wholeNumber(opts.messages, 'messages', 1, 100, problems);
      const leaseSeconds = wholeNumber(opts.leaseSeconds, 'leaseSeconds', 2, 600, problems);
      let leaseNamespace: string | undefined;
      if (opts.lease !== undefined) {
        const m = /^k8s:([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$/.exec(String(opts.lease));
        if (m) leaseNamespace = m[1];
        else
          problems.push({
            field: 'lease',
            message: `expected k8s:NAMESPACE, got ${JSON.stringify(opts.lease)} (S3 leases are not built yet)`,
          });
      }
      if (problems.length) throw new BadInputError(problems);
      const webhooks: WatchWebhook[] = [
        ...((opts.notifyWebhook as string[] | undefined) ?? []).map((u) => ({ url: webhookUrl(u) })),
        ...((opts.notifySlack as string[] | undefined) ?? []).map((u) => ({
          url: webhookUrl(u),
          format: 'slack' as const,
        })),
      ];
      const rules = readWatchRules(opts.rules as string);
      const leases = leaseNamespace
        ? new IncidentLeases(
            await createKubeLeaseApi({ namespace: leaseNamespace }),
            `${hostname()}/${process.pid}`,
            leaseSeconds ?? DEFAULT_LEASE_SECONDS,
          )
        : undefined;
      const region = typeof opts.region === 'string' ? opts.region : undefined;
      const queueApi = createQueueApi(
        awsClientConfig({ kase: region ? { region } : {}, env: process.env, clients: {} }),
      );
      const metrics = new WatchMetrics();
      const state = { ready: false, metrics };
      const health = listen ? await serveHealth(listen, state) : undefined;
      const stop = new AbortController();
      let signals = 0;
      const onSignal = (name: string) => {
        signals++;
        state.ready = false;
        log({
          level: 'info',
          msg: `${name}: stopping (in-flight work stops at a journal boundary; its message is handed back)`,
        });
        if (signals > 1) process.exit(EXIT.aborted);
        stop.abort(new Error(name));
      };
      const log = (line: Record<string, unknown>) =>
        process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...line })}\n`);
      process.on('SIGTERM', () => onSignal('SIGTERM'));
      process.on('SIGINT', () => onSignal('SIGINT'));
      if (health) log({ level: 'info', msg: 'health endpoints', port: health.port });
      try {
        const summary = await watchQueues({
          queues,
          queueApi,
          rules,
          store: opts.store as string,
          ...(typeof opts.stateDir === 'string' ? { stateDir: opts.stateDir } : {}),
          once: Boolean(opts.once),
          signal: stop.signal,
          ...(visibilitySeconds ? { visibilitySeconds } : {}),
          ...(messageConcurrency ? { messageConcurrency } : {}),
          log,
          metrics,
          ...(leases ? { leases } : {}),
          ...(webhooks.length ? { webhooks } : {}),
          onReady: () => {
            state.ready = true;
          },
        });
        log({ level: 'info', msg: 'summary', ...summary });
        if (stop.signal.aborted) {
          process.exitCode = EXIT.aborted;
          // Calls abandoned at the stop may hold sockets open until their timeout: their intents are
          // journaled, the journals closed and the messages handed back, so exit now.
          setTimeout(() => process.exit(EXIT.aborted), ABORT_EXIT_DELAY_MS).unref();
        }
      } finally {
        state.ready = false;
        health?.server.close();
      }
    });
}
