/** Validate the EC2 provider's targets and options; every problem names its case path. */
import { valueProblem, type InputProblem } from '../../src/core/errors.js';
import { paramReader } from '../../src/core/provider-kit.js';
import type { JsonObject, ProviderFlag } from '../../src/core/types.js';
import type { Ec2Params } from './facts.js';

export const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const TAG_FILTER = /^[^=]{1,128}=.{0,256}$/;
const ACCOUNT_ID = /^\d{12}$/;
const KMS_KEY = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/+=,.@-]+|alias\/[\w/+=,.@-]+|[0-9a-f-]{36})$/;
/** How long a memory acquisition may hold up the instance's containment by default. */
export const DEFAULT_MEMORY_TIMEOUT_SECONDS = 1800;
/** SSM's executionTimeout accepts up to 172800 s (48 h). */
export const MAX_MEMORY_TIMEOUT_SECONDS = 172_800;
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
  {
    flags: '--hash-snapshots',
    description:
      'once the snapshots complete (after containment), read each through the EBS direct APIs and record the SHA-256 of its volume image',
    param: 'hashSnapshots',
    boolean: true,
  },
  {
    flags: '--memory',
    description:
      'acquire the memory of each Linux instance with AVML through SSM Run Command before it is isolated (implied at severity high for instances SSM manages)',
    param: 'memory',
    boolean: true,
  },
  {
    flags: '--avml-binary <path>',
    description: 'the AVML binary to run on the hosts (default: the one scripts/build-avml.sh built)',
    param: 'avmlBinary',
  },
  {
    flags: '--memory-timeout <seconds>',
    description: `how long one memory acquisition may hold up containment (default ${DEFAULT_MEMORY_TIMEOUT_SECONDS})`,
    param: 'memoryTimeoutSeconds',
  },
];

/** Parse raw params (flags or case file) into Ec2Params; problems name case paths (`targets.ec2.instances[0]`). */
export function parseEc2Params(raw: JsonObject): { params?: Ec2Params; problems: InputProblem[] } {
  const read = paramReader('ec2', raw, [
    'instances',
    'instanceTags',
    'lockSnapshotsDays',
    'copyToAccount',
    'kmsKey',
    'hashSnapshots',
    'memory',
    'avmlBinary',
    'memoryTimeoutSeconds',
  ]);
  const { problems } = read;
  const instanceItems = read.list('instances', true);
  for (const { text, at } of instanceItems)
    if (!INSTANCE_ID.test(text))
      problems.push(valueProblem(at, text, 'is not an EC2 instance id (i-0123456789abcdef0)'));
  const instances = [...new Set(instanceItems.map((i) => i.text))];
  const tagItems = read.list('instanceTags', true);
  for (const { text, at } of tagItems)
    if (!TAG_FILTER.test(text)) problems.push(valueProblem(at, text, ': expected key=value'));
  const instanceTags = tagItems.map((t) => t.text);
  if (!instances.length && !instanceTags.length)
    problems.push({ field: 'targets.ec2', message: 'give targets.ec2.instances or targets.ec2.instanceTags' });
  const lock = read.wholeNumber('lockSnapshotsDays', 1, MAX_SNAPSHOT_LOCK_DAYS, 'days');
  const copyToAccount = read.text('copyToAccount');
  const kmsKey = read.text('kmsKey');
  if (copyToAccount && !ACCOUNT_ID.test(copyToAccount))
    problems.push(valueProblem('targets.ec2.copyToAccount', copyToAccount, 'is not a 12-digit account id'));
  if (kmsKey && !KMS_KEY.test(kmsKey))
    problems.push(valueProblem('targets.ec2.kmsKey', kmsKey, 'is not a KMS key ARN, alias or id'));
  if (copyToAccount && !kmsKey)
    problems.push({
      field: 'targets.ec2.copyToAccount',
      message: 'needs targets.ec2.kmsKey: snapshots under the AWS-managed key cannot be shared',
      continues: true,
    });
  if (kmsKey && !copyToAccount)
    problems.push({
      field: 'targets.ec2.kmsKey',
      message: 'is only used with targets.ec2.copyToAccount',
      continues: true,
    });
  const hashSnapshots = read.flag('hashSnapshots');
  const memory = read.flag('memory');
  const avmlBinary = read.text('avmlBinary');
  const memoryTimeoutSeconds = read.wholeNumber('memoryTimeoutSeconds', 30, MAX_MEMORY_TIMEOUT_SECONDS, 'seconds');
  return read.result({
    instances,
    instanceTags,
    lockSnapshotsDays: lock,
    copyToAccount,
    kmsKey,
    hashSnapshots,
    // Only when given: plans without memory stay as they were.
    ...(memory ? { memory } : {}),
    ...(avmlBinary ? { avmlBinary } : {}),
    ...(memoryTimeoutSeconds !== null ? { memoryTimeoutSeconds } : {}),
  });
}
