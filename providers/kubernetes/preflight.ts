/**
 * Dry-run proof: every request a step would send, sent the way the API server can judge without
 * persisting — reads as reads, every mutating call with `dryRun=All` (validated and authorised,
 * not stored). A 403 names the missing permission and the role file that grants it.
 */
import { PermissionError, RemoteError } from '../../src/core/errors.js';
import type { JsonObject, PreflightResult, ProviderContext } from '../../src/core/types.js';
import {
  ACCESS_REVIEW_PATH,
  eventsPath,
  kubeAction,
  networkPoliciesPath,
  nodePath,
  ownerPath,
  pdbsPath,
  podPath,
  servicesPath,
} from './api-paths.js';
import {
  MERGE_PATCH,
  messageOf,
  type KubeClient,
  type KubeResponse,
  type V1NetworkPolicy,
  type V1PodDisruptionBudget,
  type V1SelfSubjectAccessReview,
} from './client.js';
import { kubeClientFor } from './context.js';
import { directController } from './run-leave-owner.js';
import {
  CORDON_HOLDERS_ANNOTATION,
  CORDON_LABEL,
  EVICTION_ANNOTATIONS,
  KUBE_CHECKPOINT_POLICY,
  KUBE_POLICY,
} from './facts.js';
import { differenceFromWanted, quarantinePdb, quarantinePolicy } from './objects.js';
import { quarantinedLabels } from './plan.js';
import type { KubeStep } from './steps.js';

type Check = PreflightResult['checks'][number];
const SUSPENDED_KINDS = new Set(['Job', 'CronJob']);

interface Probe {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: JsonObject;
  query?: Record<string, string>;
  /** The object this create would make, to check one already there is ours. */
  wanted?: JsonObject;
  /** A kubelet-backed read (logs): any answer but 401/403 means the request was authorised. */
  kubelet?: boolean;
}

const write = (method: 'POST' | 'PATCH', path: string, body: JsonObject, wanted?: JsonObject): Probe => ({
  method,
  path,
  body,
  query: { dryRun: 'All' },
  ...(wanted ? { wanted } : {}),
});

function probes(step: KubeStep, ctx: ProviderContext): Probe[] {
  if (step.action === 'node-record' || step.action === 'cordon') {
    const { node } = step.inputs;
    const read: Probe = { method: 'GET', path: nodePath(node.name) };
    if (step.action === 'node-record') return [read];
    return [
      read,
      write('PATCH', nodePath(node.name), {
        spec: { unschedulable: true },
        metadata: {
          labels: { [CORDON_LABEL]: ctx.incident },
          annotations: { [CORDON_HOLDERS_ANNOTATION]: ctx.incident },
        },
      }),
    ];
  }
  const { pod, objectName } = step.inputs;
  const ns = pod.namespace;
  const self = podPath(ns, pod.name);
  switch (step.action) {
    case 'collect':
      return [
        { method: 'GET', path: self },
        ...pod.owners
          .filter((o) => !o.unreadable && ownerPath(ns, o))
          .map((o): Probe => ({ method: 'GET', path: ownerPath(ns, o)! })),
        { method: 'GET', path: servicesPath(ns) },
        { method: 'GET', path: networkPoliciesPath(ns) },
        { method: 'GET', path: pdbsPath(ns) },
        { method: 'GET', path: eventsPath(ns), query: { fieldSelector: `involvedObject.uid=${pod.uid}` } },
        ...[...pod.initContainers, ...pod.containers].slice(0, 1).map((c): Probe => ({
          method: 'GET',
          path: `${self}/log`,
          query: { container: c, limitBytes: '1' },
          kubelet: true,
        })),
      ];
    case 'checkpoint':
      // A checkpoint cannot be dry-run: ask the API server whether it would be allowed instead.
      return [
        write('POST', ACCESS_REVIEW_PATH, {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: { verb: 'create', resource: 'nodes', subresource: 'proxy', name: pod.nodeName ?? '' },
          },
        }),
      ];
    case 'quarantine-policy': {
      const wanted = quarantinePolicy(objectName, ctx.incident, ctx.kase.forensicCidrs, ctx.kase.forensicPorts);
      return [
        { method: 'GET', path: `${networkPoliciesPath(ns)}/${objectName}` },
        write('POST', networkPoliciesPath(ns), wanted, wanted),
      ];
    }
    case 'quarantine-labels': {
      const { labels } = quarantinedLabels(pod, ctx.incident);
      const patch = Object.fromEntries(
        [...new Set([...Object.keys(pod.labels), ...Object.keys(labels)])]
          .filter((k) => pod.labels[k] !== labels[k])
          .map((k) => [k, labels[k] ?? null]),
      );
      // A Job and its CronJob are suspended once the pod has left them.
      const suspends =
        directController(pod)?.kind === 'Job' ? pod.owners.filter((o) => SUSPENDED_KINDS.has(o.kind)) : [];
      return [
        { method: 'GET', path: `${networkPoliciesPath(ns)}/${objectName}` },
        { method: 'GET', path: self },
        { method: 'GET', path: servicesPath(ns) },
        write('PATCH', self, { metadata: { labels: patch } }),
        ...suspends
          .map((o) => ownerPath(ns, o))
          .filter((p): p is string => Boolean(p))
          .map((p) => write('PATCH', p, { spec: { suspend: true } })),
      ];
    }
    case 'eviction-protection': {
      const wanted = quarantinePdb(objectName, ctx.incident, pod);
      return [
        { method: 'GET', path: `${pdbsPath(ns)}/${objectName}` },
        write('POST', pdbsPath(ns), wanted, wanted),
        write('PATCH', self, { metadata: { annotations: { ...EVICTION_ANNOTATIONS } } }),
      ];
    }
    case 'host-network':
      return [{ method: 'GET', path: self }];
    default:
      return [];
  }
}

/** Judge one answer: whether the permission is there, and whether the real call would go through. */
function judge(
  p: Probe,
  res: KubeResponse<V1SelfSubjectAccessReview>,
): { allowed: Check['allowed']; problem?: string; detail: string } {
  if (p.path === ACCESS_REVIEW_PATH) {
    const allowed = res.body?.status?.allowed === true;
    return {
      allowed,
      detail: allowed
        ? 'SelfSubjectAccessReview: allowed'
        : `SelfSubjectAccessReview: ${res.body?.status?.reason || 'not allowed'}`,
    };
  }
  if (p.kubelet)
    return {
      allowed: true,
      detail:
        res.status < 400
          ? 'read allowed'
          : `authorised; the kubelet path answered ${res.status}: ${messageOf(res) ?? ''}`.trim(),
    };
  if (p.method === 'GET') {
    // A named object that does not exist yet (our policy, our PDB) is a fine answer to a get.
    if (res.status < 400 || res.status === 404) return { allowed: true, detail: 'read allowed' };
    return { allowed: 'unknown', detail: `${res.status} ${messageOf(res) ?? ''}`.trim() };
  }
  if (res.status < 400) return { allowed: true, detail: 'dryRun=All accepted' };
  // Authorisation comes before the conflict check: a 409 on create means the permission is there.
  if (p.method === 'POST' && res.status === 409) return { allowed: true, detail: 'already exists' };
  return {
    allowed: true,
    problem: `${p.method} ${p.path} would be refused: ${res.status} ${messageOf(res) ?? ''}`.trim(),
    detail: `authorised, but refused: ${res.status} ${messageOf(res) ?? ''}`.trim(),
  };
}

async function runProbe(
  client: KubeClient,
  p: Probe,
  ctx: ProviderContext,
): Promise<{ check: Check; problem?: string }> {
  const action = p.path === ACCESS_REVIEW_PATH ? 'k8s:create nodes/proxy' : kubeAction(p.method, p.path);
  const policyFile = p.path === ACCESS_REVIEW_PATH ? KUBE_CHECKPOINT_POLICY : KUBE_POLICY;
  try {
    // Beyond status and message, only the access review's answer is read (its status.allowed).
    const res = await client.send<V1SelfSubjectAccessReview>(p.method, p.path, {
      ...(p.body ? { body: p.body } : {}),
      ...(p.query ? { query: p.query } : {}),
      ...(p.method === 'PATCH' ? { contentType: MERGE_PATCH } : {}),
      signal: ctx.signal,
    });
    const verdict = judge(p, res);
    let problem = verdict.problem;
    if (p.wanted && res.status === 409) {
      const existing = await client.send<V1NetworkPolicy | V1PodDisruptionBudget>(
        'GET',
        `${p.path}/${(p.wanted.metadata as JsonObject).name}`,
      );
      const why = existing.status === 200 ? differenceFromWanted(existing.body ?? {}, p.wanted) : undefined;
      if (why)
        problem = `${p.wanted.kind} ${(p.wanted.metadata as JsonObject).name} exists but is not this incident's quarantine object (${why})`;
    }
    return {
      check: { action, allowed: verdict.allowed, detail: verdict.detail, policyFile },
      ...(problem ? { problem } : {}),
    };
  } catch (error) {
    if (error instanceof PermissionError)
      return { check: { action, allowed: false, detail: error.message, policyFile: error.policyFile ?? policyFile } };
    if (p.kubelet && error instanceof RemoteError)
      return {
        check: { action, allowed: true, detail: `authorised; the kubelet path failed: ${error.message}`, policyFile },
      };
    return { check: { action, allowed: 'unknown', detail: (error as Error).message, policyFile } };
  }
}

export async function preflightKube(step: KubeStep, ctx: ProviderContext): Promise<PreflightResult> {
  const client = kubeClientFor(ctx);
  const checks: Check[] = [];
  const problems: string[] = [];
  for (const p of probes(step, ctx)) {
    const { check, problem } = await runProbe(client, p, ctx);
    checks.push(check);
    if (problem) problems.push(problem);
  }
  for (const problem of problems)
    checks.push({ action: `kubernetes:${step.action}`, allowed: 'unknown', detail: problem });
  return { stepId: step.id, ok: !problems.length && checks.every((c) => c.allowed !== false), checks };
}
