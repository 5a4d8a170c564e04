/** Pure: the memory steps of one instance, or the line saying why its memory is not taken. */
import type { Case, StepDraft } from '../../src/core/types.js';
import type { Ec2Facts, InstanceFacts } from './facts.js';
import type { Ec2Step } from './steps.js';

/** S3 takes one PutObject of at most 5 GiB; larger images go as multipart parts. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;
/** Parts presigned for one image (their URLs travel in the SSM command's parameters). */
export const MAX_MEMORY_PARTS = 20;
/** S3's largest part. */
export const MAX_PART_MIB = 5 * 1024;
/** A compressed AVML image of incompressible memory is the memory plus headers and snappy framing. */
const IMAGE_OVERHEAD = 1.02;
const MIB = 1024 ** 2;

/** How the image is uploaded: one PUT, or parts of partMiB; undefined when it cannot be carried. */
export function uploadShape(memoryMiB: number | undefined): { parts: number; partMiB: number } | undefined {
  // Unknown size: one PUT, the most S3 takes at once (the host refuses a larger image and says so).
  if (!memoryMiB) return { parts: 1, partMiB: MAX_SINGLE_PUT_BYTES / MIB };
  const maxBytes = memoryMiB * MIB * IMAGE_OVERHEAD + MIB;
  if (maxBytes <= MAX_SINGLE_PUT_BYTES) return { parts: 1, partMiB: Math.ceil(maxBytes / MIB) };
  const partMiB = Math.max(1024, Math.ceil(maxBytes / MAX_MEMORY_PARTS / MIB));
  if (partMiB > MAX_PART_MIB) return undefined;
  return { parts: Math.ceil(maxBytes / (partMiB * MIB)), partMiB };
}

/** Memory steps for `i` (acquire in collect, before its isolation; the image checked after it). */
export function memorySteps(
  i: InstanceFacts,
  facts: Ec2Facts,
  kase: Case,
): { steps: StepDraft<Ec2Step>[]; limitations: string[] } {
  const m = facts.memory;
  const facts1 = m?.instances[i.instanceId];
  if (!m || !facts1) return { steps: [], limitations: [] };
  const id = i.instanceId;
  const not = (why: string) => ({ steps: [], limitations: [`memory of ${id} not acquired: ${why}`] });
  if (facts1.platform === 'windows') return not('a Windows instance (AVML reads Linux memory only)');
  if (i.state !== 'running') return not(`it is ${i.state}: a stopped instance holds no memory`);
  if (facts1.ssm === 'not-managed' || facts1.ssm === 'offline')
    return not(`no SSM agent answers for it (${facts1.ssmDetail ?? 'not managed by SSM'})`);
  if (facts1.ssm === 'unknown' && !m.explicit)
    return not(`whether SSM manages it is unknown (${facts1.ssmDetail}); targets.ec2.memory tries anyway`);
  if (!m.tool) return not(m.toolProblem ?? 'no AVML binary');
  if (kase.store.kind !== 's3')
    return not('the host uploads through presigned URLs, which only an S3 evidence store hands out');
  const shape = uploadShape(facts1.memoryMiB);
  if (!shape)
    return not(
      `${facts1.memoryMiB} MiB of memory needs more than ${MAX_MEMORY_PARTS} parts of ${MAX_PART_MIB} MiB in one command`,
    );
  const avml = { version: m.tool.version, sha256: m.tool.sha256 };
  const t = `ec2:${id}`;
  const limitations =
    facts1.ssm === 'unknown'
      ? [
          `whether SSM manages ${id} is unknown (${facts1.ssmDetail}): memory acquisition is attempted; the image decides`,
        ]
      : [];
  return {
    limitations,
    steps: [
      {
        id: `memory/${id}`,
        action: 'memory',
        phase: 'collect',
        target: t,
        title: `acquire ${id}'s memory with AVML ${avml.version} (sha256 ${avml.sha256.slice(0, 12)}…) through SSM Run Command, uploaded by the host through presigned URLs; its isolation and role revocation wait for it (at most ${m.timeoutSeconds} s)`,
        inputs: { instanceId: id, region: facts.region, avml, timeoutSeconds: m.timeoutSeconds, ...shape },
      },
      {
        id: `memory-image/${id}`,
        action: 'memory-image',
        phase: 'settle',
        target: t,
        title: `check ${id}'s memory image in the store (whole, AVML header) and hash it`,
        inputs: { instanceId: id, region: facts.region, acquireStep: `ec2:memory/${id}`, avml },
      },
    ],
  };
}

/** Memory before the instance role's sessions are revoked: each revocation waits for every acquisition. */
export function relateMemory(
  steps: readonly { id: string; action: string; provider: string }[],
): Record<string, string[]> {
  const acquisitions = steps.filter((s) => s.provider === 'ec2' && s.action === 'memory').map((s) => s.id);
  if (!acquisitions.length) return {};
  return Object.fromEntries(
    steps.filter((s) => s.provider === 'iam' && s.action === 'revoke-sessions').map((s) => [s.id, acquisitions]),
  );
}
