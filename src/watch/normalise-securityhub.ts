/**
 * Security Hub findings through EventBridge: ASFF in `detail.findings[]` ("Security Hub Findings -
 * Imported" and "Security Hub Findings - Custom Action") and the OCSF-based v2 event ("Findings
 * Imported V2"). One event may carry several findings (a custom action on a selection).
 * https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-cwe-event-formats.html
 * https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-v2-cwe-event-formats.html
 */
import {
  ACCOUNT_ID,
  AWS_REGION,
  FieldReader,
  IAM_NAME,
  INSTANCE_ID,
  MAX_RESOURCES_PER_FINDING,
  MAX_TAGS,
  type AffectedResource,
  type Finding,
} from './finding.js';

/** ASFF Severity.Label on GuardDuty's 0–10 scale (the lower bound of each GuardDuty band). */
const ASFF_LABEL_SEVERITY: Record<string, number> = { INFORMATIONAL: 0, LOW: 1, MEDIUM: 4, HIGH: 7, CRITICAL: 9 };
/** OCSF severity_id (0 Unknown … 5 Critical, 6 Fatal) on the same scale. */
const OCSF_SEVERITY: Record<number, number> = { 0: 0, 1: 0, 2: 1, 3: 4, 4: 7, 5: 9, 6: 10, 99: 0 };

const EC2_INSTANCE_ARN = /^arn:aws[a-z-]*:ec2:([a-z0-9-]+):(\d{12}):instance\/(i-[0-9a-f]{8,17})$/;
const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):(user|role)\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/;

/** The resource a resource id names (an EC2 instance or IAM principal ARN, or a bare instance id). */
function resourceFromId(
  id: string,
  account: string | undefined,
  region: string | undefined,
): AffectedResource | undefined {
  const ec2 = EC2_INSTANCE_ARN.exec(id);
  if (ec2) return { kind: 'ec2-instance', region: ec2[1]!, account: ec2[2]!, instanceId: ec2[3]! };
  if (INSTANCE_ID.test(id) && account && region) return { kind: 'ec2-instance', account, region, instanceId: id };
  const iam = IAM_PRINCIPAL_ARN.exec(id);
  if (iam && IAM_NAME.test(iam[3]!))
    return { kind: iam[2] === 'user' ? 'iam-user' : 'iam-role', account: iam[1]!, name: iam[3]! };
  return undefined;
}

/** One ASFF finding (`at` is its field path, e.g. `detail.findings[0]`). */
export function normaliseAsff(finding: unknown, at: string): Finding {
  const r = new FieldReader(finding);
  const o = (finding ?? {}) as Record<string, unknown>;
  const id = r.text(o.Id, `${at}.Id`, { required: true, max: 512 });
  const account = r.text(o.AwsAccountId, `${at}.AwsAccountId`, {
    required: true,
    pattern: ACCOUNT_ID,
    what: 'an AWS account id',
  });
  const region = r.text(o.Region, `${at}.Region`, { pattern: AWS_REGION, what: 'an AWS region' });
  const types = r.list(o.Types, `${at}.Types`, 50).map((t, i) => r.text(t, `${at}.Types[${i}]`, { max: 256 }) ?? '');
  const title = r.text(o.Title, `${at}.Title`) ?? '';
  const updatedAt = r.text(o.UpdatedAt, `${at}.UpdatedAt`, { max: 64 });
  const sev = (o.Severity ?? {}) as Record<string, unknown>;
  let severity: number | undefined;
  if (sev.Normalized !== undefined)
    severity = (r.number(sev.Normalized, `${at}.Severity.Normalized`, 0, 100) ?? 0) / 10;
  else if (typeof sev.Label === 'string' && sev.Label in ASFF_LABEL_SEVERITY) severity = ASFF_LABEL_SEVERITY[sev.Label];
  else
    r.problems.push({ field: `${at}.Severity`, message: 'needs Label (INFORMATIONAL…CRITICAL) or Normalized (0–100)' });
  const resources: AffectedResource[] = [];
  const tags: Record<string, string> = {};
  let resourceType: string | undefined;
  r.list(o.Resources, `${at}.Resources`, MAX_RESOURCES_PER_FINDING).forEach((res, i) => {
    const rr = (res ?? {}) as Record<string, unknown>;
    const type = r.text(rr.Type, `${at}.Resources[${i}].Type`, { max: 128 });
    const rid = r.text(rr.Id, `${at}.Resources[${i}].Id`, { max: 2048 });
    const rregion = r.text(rr.Region, `${at}.Resources[${i}].Region`, { pattern: AWS_REGION, what: 'an AWS region' });
    resourceType ??= type;
    const tagMap = rr.Tags;
    if (tagMap && typeof tagMap === 'object' && !Array.isArray(tagMap)) {
      const entries = Object.entries(tagMap as Record<string, unknown>);
      if (entries.length > MAX_TAGS)
        r.problems.push({ field: `${at}.Resources[${i}].Tags`, message: `more than ${MAX_TAGS} tags` });
      else for (const [k, v] of entries) tags[k] = r.text(v, `${at}.Resources[${i}].Tags.${k}`, { max: 256 }) ?? '';
    }
    const found = rid ? resourceFromId(rid, account, rregion ?? region) : undefined;
    if (found) resources.push(found);
    else if (rid && /^(AwsEc2Instance|AwsIamUser|AwsIamRole)$/.test(type ?? ''))
      r.problems.push({
        field: `${at}.Resources[${i}].Id`,
        message: `${JSON.stringify(rid.slice(0, 120))} is not a ${type} ARN`,
        continues: true,
      });
  });
  const productFields = (o.ProductFields ?? {}) as Record<string, unknown>;
  const sample = Object.entries(productFields).some(
    ([k, v]) => /(^|\/)additionalInfo\/sample$/.test(k) && String(v) === 'true',
  );
  const workflow = ((o.Workflow ?? {}) as Record<string, unknown>).Status;
  const active = o.RecordState !== 'ARCHIVED' && workflow !== 'RESOLVED' && workflow !== 'SUPPRESSED';
  r.done();
  return {
    source: 'securityhub',
    id: id!,
    types: types.filter(Boolean),
    severity: severity ?? 0,
    account: account!,
    ...(region ? { region } : {}),
    sample,
    active,
    title,
    ...(updatedAt ? { updatedAt } : {}),
    tags,
    resources,
    ...(resourceType ? { resourceType } : {}),
  };
}

/** One OCSF finding of the v2 event (Detection Finding shape: finding_info, severity_id, cloud, resources). */
export function normaliseOcsf(finding: unknown, at: string): Finding {
  const r = new FieldReader(finding);
  const o = (finding ?? {}) as Record<string, unknown>;
  const info = (o.finding_info ?? {}) as Record<string, unknown>;
  const cloud = (o.cloud ?? {}) as Record<string, unknown>;
  const id = r.text(info.uid, `${at}.finding_info.uid`, { required: true, max: 512 });
  const title = r.text(info.title, `${at}.finding_info.title`) ?? '';
  const types = r
    .list(info.types, `${at}.finding_info.types`, 50)
    .map((t, i) => r.text(t, `${at}.finding_info.types[${i}]`, { max: 256 }) ?? '');
  const account = r.text(((cloud.account ?? {}) as Record<string, unknown>).uid, `${at}.cloud.account.uid`, {
    required: true,
    pattern: ACCOUNT_ID,
    what: 'an AWS account id',
  });
  const region = r.text(cloud.region, `${at}.cloud.region`, { pattern: AWS_REGION, what: 'an AWS region' });
  const severityId = r.number(o.severity_id ?? 0, `${at}.severity_id`, 0, 99);
  const updatedAt = r.text(info.modified_time_dt ?? o.time_dt, `${at}.finding_info.modified_time_dt`, { max: 64 });
  const resources: AffectedResource[] = [];
  let resourceType: string | undefined;
  r.list(o.resources, `${at}.resources`, MAX_RESOURCES_PER_FINDING).forEach((res, i) => {
    const rr = (res ?? {}) as Record<string, unknown>;
    const type = r.text(rr.type, `${at}.resources[${i}].type`, { max: 128 });
    const uid = r.text(rr.uid, `${at}.resources[${i}].uid`, { max: 2048 });
    const rregion = r.text(rr.region, `${at}.resources[${i}].region`, { pattern: AWS_REGION, what: 'an AWS region' });
    resourceType ??= type;
    const found = uid ? resourceFromId(uid, account, rregion ?? region) : undefined;
    if (found) resources.push(found);
  });
  const status = typeof o.status === 'string' ? o.status : '';
  r.done();
  return {
    source: 'securityhub',
    id: id!,
    types: types.filter(Boolean),
    severity: OCSF_SEVERITY[severityId ?? 0] ?? 0,
    account: account!,
    ...(region ? { region } : {}),
    sample: false,
    active: !/^(Resolved|Suppressed|Archived)$/i.test(status),
    title,
    ...(updatedAt ? { updatedAt } : {}),
    tags: {},
    resources,
    ...(resourceType ? { resourceType } : {}),
  };
}
