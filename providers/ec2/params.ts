/** Validate the EC2 provider's targets and options; every problem names its flag. */
import type { JsonObject, ProviderFlag } from '../../src/core/types.js';
import type { Ec2Params } from './facts.js';

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const TAG_FILTER = /^[^=]{1,128}=.{0,256}$/;
const ACCOUNT_ID = /^\d{12}$/;
const KMS_KEY = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/+=,.@-]+|alias\/[\w/+=,.@-]+|[0-9a-f-]{36})$/;
/** LockSnapshot accepts 1 to 36500 days. */
export const MAX_SNAPSHOT_LOCK_DAYS = 36_500;

/** CLI flags that feed the EC2 params. */
export const ec2Flags: ProviderFlag[] = [
  {
    flags: '--instance <id>',
    description: 'EC2 instance to preserve, snapshot and isolate (repeatable)',
    param: 'instances',
    repeatable: true,
    target: true,
  },
  {
    flags: '--instance-tag <key=value>',
    description: 'every instance with this tag, running or stopped (repeatable)',
    param: 'instanceTags',
    repeatable: true,
    target: true,
  },
  {
    flags: '--lock-snapshots <days>',
    description: 'lock the EBS snapshots (compliance mode, 24 h cool-off) for this many days',
    param: 'lockSnapshotsDays',
  },
  {
    flags: '--copy-to-account <id>',
    description: 'copy the snapshots under --kms-key and share the copies with this forensic account',
    param: 'copyToAccount',
  },
  { flags: '--kms-key <arn>', description: 'customer-managed KMS key for --copy-to-account copies', param: 'kmsKey' },
];

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** Parse raw params (flags or case file) into Ec2Params. */
export function parseEc2Params(raw: JsonObject): { params?: Ec2Params; problems: string[] } {
  const problems: string[] = [];
  const known = new Set(['instances', 'instanceTags', 'lockSnapshotsDays', 'copyToAccount', 'kmsKey']);
  for (const key of Object.keys(raw)) if (!known.has(key)) problems.push(`targets.ec2.${key}: unknown field`);
  const instances = [...new Set(list(raw.instances))];
  for (const id of instances)
    if (!INSTANCE_ID.test(id)) problems.push(`--instance "${id}" is not an instance id (i-0123456789abcdef0)`);
  const instanceTags = list(raw.instanceTags);
  for (const t of instanceTags) if (!TAG_FILTER.test(t)) problems.push(`--instance-tag "${t}": expected key=value`);
  if (!instances.length && !instanceTags.length) problems.push('ec2: give --instance or --instance-tag');
  let lock: number | null = null;
  if (raw.lockSnapshotsDays !== undefined && raw.lockSnapshotsDays !== null) {
    lock = Number(raw.lockSnapshotsDays);
    if (!Number.isInteger(lock) || lock < 1 || lock > MAX_SNAPSHOT_LOCK_DAYS)
      problems.push(
        `--lock-snapshots: expected whole days from 1 to ${MAX_SNAPSHOT_LOCK_DAYS}, got ${JSON.stringify(raw.lockSnapshotsDays)}`,
      );
  }
  const copyToAccount = raw.copyToAccount ? String(raw.copyToAccount) : null;
  const kmsKey = raw.kmsKey ? String(raw.kmsKey) : null;
  if (copyToAccount && !ACCOUNT_ID.test(copyToAccount))
    problems.push(`--copy-to-account "${copyToAccount}" is not a 12-digit account id`);
  if (kmsKey && !KMS_KEY.test(kmsKey)) problems.push(`--kms-key "${kmsKey}" is not a KMS key ARN, alias or id`);
  if (copyToAccount && !kmsKey)
    problems.push('--copy-to-account needs --kms-key: snapshots under the AWS-managed key cannot be shared');
  if (kmsKey && !copyToAccount) problems.push('--kms-key is only used with --copy-to-account');
  return problems.length
    ? { problems }
    : { params: { instances, instanceTags, lockSnapshotsDays: lock, copyToAccount, kmsKey }, problems };
}
