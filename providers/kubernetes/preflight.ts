/** Dry-run proof: every mutating call of a step sent with dryRun=All (validated and authorised, not persisted). */
import { PermissionError } from '../../src/errors.js';
import type { PreflightResult, ProviderContext, Step } from '../../src/types.js';
import { KUBE_POLICY, MERGE_PATCH, rbacOf } from './client.js';
import { kubeClientFor } from './context.js';
import { CORDON_LABEL, QUARANTINE_LABEL, type NodeFacts, type PodFacts } from './facts.js';
import { quarantinePdb, quarantinePolicy } from './run.js';

type Check = PreflightResult['checks'][number];
interface Probe {
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
  dryRun: boolean;
}

function probes(step: Step, ctx: ProviderContext): Probe[] {
  const pod = (step.inputs as { pod?: PodFacts }).pod;
  const node = (step.inputs as { node?: NodeFacts }).node;
  const objectName = String((step.inputs as { objectName?: string }).objectName ?? '');
  const podPath = pod ? `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}` : '';
  switch (step.action) {
    case 'protect':
      return [
        { method: 'PATCH', path: podPath, body: { metadata: { labels: { [QUARANTINE_LABEL]: ctx.incident } } }, contentType: MERGE_PATCH, dryRun: true },
        { method: 'POST', path: `/apis/policy/v1/namespaces/${pod!.namespace}/poddisruptionbudgets`, body: quarantinePdb(objectName, ctx.incident), dryRun: true },
      ];
    case 'collect':
      return [
        { method: 'GET', path: podPath, dryRun: false },
        { method: 'GET', path: `/api/v1/namespaces/${pod!.namespace}/events`, dryRun: false },
      ];
    case 'quarantine-policy':
      return [{ method: 'POST', path: `/apis/networking.k8s.io/v1/namespaces/${pod!.namespace}/networkpolicies`, body: quarantinePolicy(objectName, ctx.incident, ctx.kase.forensicCidrs), dryRun: true }];
    case 'orphan':
      return pod!.selectorKeys.length ? [{ method: 'PATCH', path: podPath, body: { metadata: { labels: Object.fromEntries(pod!.selectorKeys.map((k) => [k, null])) } }, contentType: MERGE_PATCH, dryRun: true }] : [];
    case 'node-record':
      return [{ method: 'GET', path: `/api/v1/nodes/${node!.name}`, dryRun: false }];
    case 'cordon':
      return [{ method: 'PATCH', path: `/api/v1/nodes/${node!.name}`, body: { spec: { unschedulable: true }, metadata: { labels: { [CORDON_LABEL]: ctx.incident } } }, contentType: MERGE_PATCH, dryRun: true }];
    default:
      return [];
  }
}

export async function preflightKube(step: Step, ctx: ProviderContext): Promise<PreflightResult> {
  const client = kubeClientFor(ctx);
  const checks: Check[] = [];
  for (const p of probes(step, ctx)) {
    const { verb, resource } = rbacOf(p.method, p.path);
    const action = `k8s:${verb} ${resource}`;
    try {
      const res = await client.send(p.method, p.path, { ...(p.body ? { body: p.body } : {}), ...(p.contentType ? { contentType: p.contentType } : {}), ...(p.dryRun ? { query: { dryRun: 'All' } } : {}) });
      // 409 on a dry-run create means the object already exists: the permission is there.
      const ok = res.status < 400 || res.status === 409;
      checks.push({ action, allowed: ok ? true : 'unknown', detail: ok ? (p.dryRun ? 'dryRun=All accepted' : 'read allowed') : `${res.status} ${res.body?.message ?? ''}`, policyFile: KUBE_POLICY });
    } catch (error) {
      if (error instanceof PermissionError) checks.push({ action, allowed: false, detail: error.message, policyFile: KUBE_POLICY });
      else checks.push({ action, allowed: 'unknown', detail: (error as Error).message, policyFile: KUBE_POLICY });
    }
  }
  return { stepId: step.id, ok: checks.every((c) => c.allowed !== false), checks };
}
