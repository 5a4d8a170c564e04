/**
 * GuardDuty findings: the EventBridge event (`detail` is the finding, camelCase) or the finding as the
 * SDK's GetFindings returns it (PascalCase). Both spellings are read through one accessor.
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 */
import {
  ACCOUNT_ID,
  AWS_REGION,
  CLUSTER_NAME,
  FieldReader,
  IAM_NAME,
  INSTANCE_ID,
  KUBE_NAME,
  MAX_TAGS,
  type AffectedResource,
  type Finding,
} from './finding.js';

/** `obj.name`, or the SDK's `obj.Name`. */
function field(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined;
  const o = obj as Record<string, unknown>;
  return o[name] ?? o[name.charAt(0).toUpperCase() + name.slice(1)];
}

/** True for a bare GuardDuty finding in the SDK's PascalCase shape. */
export function looksLikeSdkGuardDutyFinding(body: Record<string, unknown>): boolean {
  return 'SchemaVersion' in body && 'Type' in body && 'Resource' in body && 'AccountId' in body;
}

/** Normalise one GuardDuty finding (`finding` is `detail` of the event, or the SDK finding); `at` is its field path. */
export function normaliseGuardDuty(finding: unknown, at: string): Finding {
  const r = new FieldReader(finding);
  const p = (name: string) => (at ? `${at}.${name}` : name);
  if (finding === null || typeof finding !== 'object' || Array.isArray(finding)) {
    r.problems.push({ field: at, message: 'expected the finding object' });
    r.done();
  }
  const id = r.text(field(finding, 'id'), p('id'), {
    required: true,
    max: 256,
    pattern: /^[\w.:/-]+$/,
    what: 'a finding id',
  });
  const type = r.text(field(finding, 'type'), p('type'), { required: true, max: 256 });
  const account = r.text(field(finding, 'accountId'), p('accountId'), {
    required: true,
    pattern: ACCOUNT_ID,
    what: 'an AWS account id',
  });
  const region = r.text(field(finding, 'region'), p('region'), {
    required: true,
    pattern: AWS_REGION,
    what: 'an AWS region',
  });
  const severity = r.number(field(finding, 'severity'), p('severity'), 0, 10);
  const title = r.text(field(finding, 'title'), p('title')) ?? type ?? '';
  const updatedAt = r.text(field(finding, 'updatedAt'), p('updatedAt'), { max: 64 });
  const service = field(finding, 'service');
  const sampleFlag = field(field(service, 'additionalInfo'), 'sample');
  const archived = field(service, 'archived') === true;
  const resource = field(finding, 'resource');
  const resourceType = r.text(field(resource, 'resourceType'), p('resource.resourceType'), { max: 64 });
  const resources: AffectedResource[] = [];
  const tags: Record<string, string> = {};

  const instance = field(resource, 'instanceDetails');
  const instanceId = r.text(field(instance, 'instanceId'), p('resource.instanceDetails.instanceId'), {
    pattern: INSTANCE_ID,
    what: 'an EC2 instance id',
  });
  r.list(field(instance, 'tags'), p('resource.instanceDetails.tags'), MAX_TAGS).forEach((tag, i) => {
    const key = r.text(field(tag, 'key'), p(`resource.instanceDetails.tags[${i}].key`), { max: 128 });
    const value = r.text(field(tag, 'value'), p(`resource.instanceDetails.tags[${i}].value`), { max: 256 });
    if (key !== undefined) tags[key] = value ?? '';
  });
  if (instanceId && account && region) resources.push({ kind: 'ec2-instance', account, region, instanceId });

  // Kubernetes findings (EKS audit logs, runtime monitoring): a workload of type pods is one pod.
  const workload = field(field(resource, 'kubernetesDetails'), 'kubernetesWorkloadDetails');
  if (workload !== undefined) {
    const kind = r.text(field(workload, 'type'), p('resource.kubernetesDetails.kubernetesWorkloadDetails.type'), {
      max: 64,
    });
    const namespace = r.text(
      field(workload, 'namespace'),
      p('resource.kubernetesDetails.kubernetesWorkloadDetails.namespace'),
      {
        pattern: KUBE_NAME,
        what: 'a Kubernetes namespace',
      },
    );
    const name = r.text(field(workload, 'name'), p('resource.kubernetesDetails.kubernetesWorkloadDetails.name'), {
      pattern: KUBE_NAME,
      what: 'a Kubernetes object name',
    });
    const cluster = r.text(field(field(resource, 'eksClusterDetails'), 'name'), p('resource.eksClusterDetails.name'), {
      pattern: CLUSTER_NAME,
      what: 'a cluster name',
    });
    if (kind?.toLowerCase() === 'pods' && namespace && name)
      resources.push({ kind: 'pod', cluster: cluster ?? '', namespace, pod: name });
  }

  // Access-key findings name an IAM user, or (AssumedRole) the role whose session was used.
  const key = field(resource, 'accessKeyDetails');
  if (key !== undefined) {
    const userType = r.text(field(key, 'userType'), p('resource.accessKeyDetails.userType'), { max: 64 });
    const userName = r.text(field(key, 'userName'), p('resource.accessKeyDetails.userName'), {
      pattern: IAM_NAME,
      what: 'an IAM user or role name',
    });
    if (userName && account && (userType === 'IAMUser' || userType === 'AssumedRole'))
      resources.push({ kind: userType === 'IAMUser' ? 'iam-user' : 'iam-role', account, name: userName });
  }
  r.done();
  return {
    source: 'guardduty',
    id: id!,
    types: [type!],
    severity: severity!,
    account: account!,
    region: region!,
    sample: sampleFlag === true || sampleFlag === 'true',
    active: !archived,
    title,
    ...(updatedAt ? { updatedAt } : {}),
    tags,
    resources,
    ...(resourceType ? { resourceType } : {}),
  };
}
