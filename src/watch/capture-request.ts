/**
 * holdfast's own capture request (schemas/capture-request.schema.json), for chat bots and people:
 * what to capture, why, how urgent, and who leads. Strict: an unknown field is named, not ignored.
 */
import {
  ACCOUNT_ID,
  AWS_REGION,
  CLUSTER_NAME,
  FieldReader,
  IAM_NAME,
  INSTANCE_ID,
  KUBE_NAME,
  MAX_RESOURCES_PER_FINDING,
  type AffectedResource,
  type Finding,
} from './finding.js';

export const CAPTURE_REQUEST_SCHEMA = 'holdfast/capture-request@1';

const REQUEST_FIELDS = [
  'schema',
  'id',
  'title',
  'severity',
  'action',
  'requestedBy',
  'commander',
  'responders',
  'resources',
];
const RESOURCE_FIELDS: Record<AffectedResource['kind'], string[]> = {
  'ec2-instance': ['kind', 'account', 'region', 'instanceId'],
  pod: ['kind', 'cluster', 'namespace', 'pod'],
  'iam-user': ['kind', 'account', 'name'],
  'iam-role': ['kind', 'account', 'name'],
};

/** The action a request asks for (the rules file still decides whether it is allowed). */
export type RequestedAction = 'contain' | 'collect' | 'notify';

/** Normalise a capture request; `action` is what it asked for. */
export function normaliseCaptureRequest(
  body: Record<string, unknown>,
): Finding & { requestedAction?: RequestedAction } {
  const r = new FieldReader(body);
  for (const key of Object.keys(body))
    if (!REQUEST_FIELDS.includes(key)) r.problems.push({ field: key, message: 'unknown capture-request field' });
  const id = r.text(body.id, 'id', {
    required: true,
    max: 128,
    pattern: /^[\w.:-]+$/,
    what: 'a request id (letters, digits, . _ : -)',
  });
  const title = r.text(body.title, 'title', { required: true });
  const severity = r.number(body.severity, 'severity', 0, 10);
  const action = body.action;
  if (action !== undefined && action !== 'contain' && action !== 'collect' && action !== 'notify')
    r.problems.push({ field: 'action', message: `expected contain, collect or notify, got ${JSON.stringify(action)}` });
  const requestedBy = r.text(body.requestedBy, 'requestedBy', { max: 256 });
  const commander = r.text(body.commander, 'commander', { max: 256 });
  const responders = r
    .list(body.responders, 'responders', 50)
    .map((x, i) => r.text(x, `responders[${i}]`, { max: 256 }) ?? '');
  const resources: AffectedResource[] = [];
  const list = r.list(body.resources, 'resources', MAX_RESOURCES_PER_FINDING);
  if (!list.length && body.resources !== undefined)
    r.problems.push({ field: 'resources', message: 'is empty', continues: true });
  if (body.resources === undefined) r.problems.push({ field: 'resources', message: 'is required', continues: true });
  list.forEach((raw, i) => {
    const at = `resources[${i}]`;
    const o = (raw ?? {}) as Record<string, unknown>;
    const kind = o.kind as AffectedResource['kind'];
    const allowed = RESOURCE_FIELDS[kind];
    if (!allowed) {
      r.problems.push({
        field: `${at}.kind`,
        message: `expected ec2-instance, pod, iam-user or iam-role, got ${JSON.stringify(o.kind)}`,
      });
      return;
    }
    for (const key of Object.keys(o))
      if (!allowed.includes(key)) r.problems.push({ field: `${at}.${key}`, message: `unknown field for ${kind}` });
    if (kind === 'ec2-instance') {
      const account = r.text(o.account, `${at}.account`, {
        required: true,
        pattern: ACCOUNT_ID,
        what: 'an AWS account id',
      });
      const region = r.text(o.region, `${at}.region`, { required: true, pattern: AWS_REGION, what: 'an AWS region' });
      const instanceId = r.text(o.instanceId, `${at}.instanceId`, {
        required: true,
        pattern: INSTANCE_ID,
        what: 'an EC2 instance id',
      });
      if (account && region && instanceId) resources.push({ kind, account, region, instanceId });
    } else if (kind === 'pod') {
      const cluster = r.text(o.cluster, `${at}.cluster`, { pattern: CLUSTER_NAME, what: 'a cluster name' }) ?? '';
      const namespace = r.text(o.namespace, `${at}.namespace`, {
        required: true,
        pattern: KUBE_NAME,
        what: 'a Kubernetes namespace',
      });
      const pod = r.text(o.pod, `${at}.pod`, { required: true, pattern: KUBE_NAME, what: 'a Kubernetes pod name' });
      if (namespace && pod) resources.push({ kind, cluster, namespace, pod });
    } else {
      const account = r.text(o.account, `${at}.account`, {
        required: true,
        pattern: ACCOUNT_ID,
        what: 'an AWS account id',
      });
      const name = r.text(o.name, `${at}.name`, {
        required: true,
        pattern: IAM_NAME,
        what: 'an IAM user or role name',
      });
      if (account && name) resources.push({ kind, account, name });
    }
  });
  r.done();
  const first = resources[0];
  const account = first && 'account' in first ? first.account : undefined;
  const region = first?.kind === 'ec2-instance' ? first.region : undefined;
  return {
    source: 'request',
    id: id!,
    types: [`request/${(action as string | undefined) ?? 'contain'}`],
    severity: severity ?? 7,
    ...(account ? { account } : {}),
    ...(region ? { region } : {}),
    sample: false,
    active: true,
    title: title!,
    tags: requestedBy ? { requestedBy } : {},
    resources,
    ...(commander ? { commander } : {}),
    ...(responders.length ? { responders: responders.filter(Boolean) } : {}),
    ...(action ? { requestedAction: action as RequestedAction } : {}),
  };
}
