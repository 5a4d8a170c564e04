/**
 * Falcosidekick bodies (its SQS output and its webhook send the same JSON): `rule`, `priority`,
 * `output`, `time`, `output_fields` (`k8s.ns.name`, `k8s.pod.name`, …), `uuid`, `hostname`, `tags`.
 * Every field is written by the workload Falco watched, so names are checked like CLI input.
 * https://github.com/falcosecurity/falcosidekick (types.FalcoPayload)
 */
import {
  CLUSTER_NAME,
  FALCO_PRIORITIES,
  FieldReader,
  KUBE_NAME,
  type AffectedResource,
  type FalcoPriority,
  type Finding,
} from './finding.js';

/** Falco priorities on GuardDuty's 0–10 scale. */
const FALCO_SEVERITY: Record<FalcoPriority, number> = {
  Emergency: 10,
  Alert: 9,
  Critical: 8,
  Error: 7,
  Warning: 5,
  Notice: 3,
  Informational: 1,
  Debug: 0,
};

/** True for a body shaped like a Falcosidekick payload. */
export function looksLikeFalco(body: Record<string, unknown>): boolean {
  return typeof body.rule === 'string' && 'priority' in body && 'output_fields' in body;
}

/** Falco writes priorities in several cases (`CRITICAL`, `critical`, `Critical`). */
function priorityOf(value: unknown): FalcoPriority | undefined {
  if (typeof value !== 'string') return undefined;
  const lower = value.toLowerCase();
  return FALCO_PRIORITIES.find((p) => p.toLowerCase() === lower || (lower === 'info' && p === 'Informational'));
}

/** Normalise a Falcosidekick body; `cluster` names the cluster when the body does not (`k8s.cluster.name`). */
export function normaliseFalco(body: Record<string, unknown>, cluster = ''): Finding {
  const r = new FieldReader(body);
  const rule = r.text(body.rule, 'rule', { required: true, max: 256 });
  const priority = priorityOf(body.priority);
  if (!priority)
    r.problems.push({
      field: 'priority',
      message: `expected one of ${FALCO_PRIORITIES.join(', ')}, got ${JSON.stringify(body.priority)}`,
    });
  const uuid = r.text(body.uuid, 'uuid', { max: 64, pattern: /^[\w-]+$/, what: 'a Falco event uuid' });
  const time = r.text(body.time, 'time', { max: 64 });
  const output = r.text(body.output, 'output', { max: 4096 });
  const fields = body.output_fields;
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields))
    r.problems.push({ field: 'output_fields', message: 'expected an object of Falco fields' });
  const f = (fields ?? {}) as Record<string, unknown>;
  const namespace = r.text(f['k8s.ns.name'], 'output_fields.k8s.ns.name', {
    pattern: KUBE_NAME,
    what: 'a Kubernetes namespace',
  });
  const pod = r.text(f['k8s.pod.name'], 'output_fields.k8s.pod.name', {
    pattern: KUBE_NAME,
    what: 'a Kubernetes pod name',
  });
  const clusterName =
    r.text(f['k8s.cluster.name'], 'output_fields.k8s.cluster.name', {
      pattern: CLUSTER_NAME,
      what: 'a cluster name',
    }) ?? cluster;
  const resources: AffectedResource[] = namespace && pod ? [{ kind: 'pod', cluster: clusterName, namespace, pod }] : [];
  r.done();
  return {
    source: 'falco',
    // Falcosidekick gives every event a uuid; an older one without it is known by rule, pod and time.
    id: uuid ?? `${rule}/${namespace ?? '-'}/${pod ?? '-'}/${time ?? '-'}`,
    types: [rule!],
    severity: FALCO_SEVERITY[priority!],
    priority: priority!,
    sample: false,
    active: true,
    title: output ?? rule!,
    ...(time ? { updatedAt: time } : {}),
    tags: {},
    resources,
  };
}
