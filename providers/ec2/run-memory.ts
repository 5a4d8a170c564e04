/**
 * The memory step: AVML through SSM Run Command, uploaded by the host itself through presigned URLs.
 * `memory` runs before the instance's isolation and never fails it: whatever happens on the host it
 * returns how the acquisition ended, so containment always goes on (after at most the timeout).
 * `memory-image` runs after containment: the image in the store, hashed here, decides.
 * Nothing is stopped, rebooted or terminated on any failure.
 */
import { createReadStream } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { BadInputError, RemoteError } from '../../src/core/errors.js';
import type { ArtifactRecord, JsonObject } from '../../src/core/types.js';
import { commandInvocation, sendShellScript } from './client.js';
import { ec2ClientsFor } from './context.js';
import { cachedAvmlPath } from './discover-memory.js';
import { memoryScript } from './memory-script.js';
import { ec2OutputOf, type Ec2Outcome, type Ec2StepContext, type MemoryAcquisition } from './steps.js';

/** Store names of the memory step's artifacts. */
export const MEMORY_NAMES = { tool: 'avml', image: 'memory.lime', receipt: 'host-receipt.json' } as const;
/** How often the store and SSM are asked whether the host is done. */
export const MEMORY_POLL_MS = 2_000;
/** Presigned URLs outlive the acquisition's timeout by this much (the upload of the last part). */
const URL_MARGIN_SECONDS = 600;
/** SSM statuses after which the host will write nothing more. */
const HOST_GAVE_UP =
  /^(Failed|Cancelled|TimedOut|DeliveryTimedOut|ExecutionTimedOut|Undeliverable|Terminated|InvalidPlatform|AccessDenied)$/;

type MemoryIntent = { send?: string; commandId?: string; uploadId?: string; urlsExpireAt?: string };

/** Acquire: store the pinned AVML, presign, send the script, wait for the host's receipt (or the timeout). */
export async function runMemory(ctx: Ec2StepContext<'memory'>): Promise<Ec2Outcome<'memory'>> {
  const { instanceId, avml, timeoutSeconds, parts, partMiB } = ctx.step.inputs;
  const remote = ctx.remote;
  // Whatever went wrong is a result: containment goes on, and memory-image fails the capture.
  const fail = (outcome: MemoryAcquisition['outcome'], why: string, partial: Partial<MemoryAcquisition> = {}) => ({
    outputs: {
      outcome,
      reason: why,
      commandId: null,
      ssmStatus: null,
      uploadId: null,
      toolArtifact: null,
      receipt: null,
      ...partial,
    },
    limitations: [`memory of ${instanceId} not acquired: ${why}; isolation went on`],
  });
  if (!remote) return fail('not-sent', 'the evidence store hands out no presigned URLs');
  // A receipt already there: an earlier run's host finished (a resumed capture adopts, never re-acquires).
  const earlierReceipt = await adoptReceipt(ctx);
  const intents = ctx.previous.intents as MemoryIntent[];
  const sent = intents.filter((i) => i.send === 'ssm-memory-command' && i.commandId).at(-1);
  if (earlierReceipt) return done(ctx, earlierReceipt, sent?.commandId ?? null, null, sent?.uploadId ?? null);

  const tool = await storeTool(ctx);
  if (typeof tool === 'string') return fail('not-sent', tool);
  const c = ec2ClientsFor(ctx);
  let commandId = sent?.commandId ?? null;
  let uploadId = sent?.uploadId ?? null;
  const stillValid = sent?.urlsExpireAt && Date.parse(sent.urlsExpireAt) - Date.now() > timeoutSeconds * 1000;
  if (!commandId || !stillValid) {
    const expiresInSeconds = timeoutSeconds + URL_MARGIN_SECONDS;
    const [avmlUrl, image, receipt] = await Promise.all([
      remote.readUrl(tool, expiresInSeconds),
      remote.writeUrls(remote.keyOf(MEMORY_NAMES.image), {
        parts,
        expiresInSeconds,
        contentType: 'application/octet-stream',
      }),
      remote.writeUrls(remote.keyOf(MEMORY_NAMES.receipt), {
        parts: 1,
        expiresInSeconds,
        contentType: 'application/json',
      }),
    ]);
    uploadId = image.uploadId ?? null;
    const script = memoryScript({
      incident: ctx.incident,
      instanceId,
      avmlUrl,
      avmlSha256: avml.sha256,
      imageUrls: image.urls,
      imageHeaders: image.headers,
      partMiB,
      receiptUrl: receipt.urls[0]!,
      receiptHeaders: receipt.headers,
    });
    const urlsExpireAt = new Date(Date.now() + expiresInSeconds * 1000).toISOString();
    // Journaled before sending: a re-run waits for this command instead of sending another.
    await ctx.recordIntent({ send: 'ssm-memory-command', instanceId, urlsExpireAt, ...(uploadId ? { uploadId } : {}) });
    try {
      commandId = await sendShellScript(c, instanceId, script, timeoutSeconds, `holdfast ${ctx.incident} memory`);
    } catch (error) {
      return fail('not-sent', `SSM SendCommand failed: ${(error as Error).name}`, { uploadId, toolArtifact: tool.id });
    }
    await ctx.recordIntent({
      send: 'ssm-memory-command',
      instanceId,
      commandId,
      urlsExpireAt,
      ...(uploadId ? { uploadId } : {}),
    });
    ctx.progress(`sent SSM command ${commandId} to ${instanceId}`, { commandId });
  }
  const deadline = Date.now() + timeoutSeconds * 1000;
  let ssmStatus: string | null = null;
  let hostSaid = '';
  while (Date.now() < deadline) {
    const receipt = await adoptReceipt(ctx);
    if (receipt) return done(ctx, receipt, commandId, ssmStatus, uploadId, tool.id);
    try {
      const inv = await commandInvocation(c, commandId, instanceId);
      if (inv) {
        ssmStatus = inv.status;
        hostSaid = inv.stderr;
      }
    } catch {
      // SSM's status is advisory: the receipt in the store is what ends the wait.
    }
    if (ssmStatus && HOST_GAVE_UP.test(ssmStatus)) {
      // A last look: the receipt may have landed just before the status changed.
      const late = await adoptReceipt(ctx);
      if (late) return done(ctx, late, commandId, ssmStatus, uploadId, tool.id);
      return fail('host-failed', `SSM says ${ssmStatus}${hostSaid ? `; the host said: ${hostSaid.trim()}` : ''}`, {
        commandId,
        ssmStatus,
        uploadId,
        toolArtifact: tool.id,
      });
    }
    ctx.reportProgress({ waitingOn: `${instanceId}'s memory image (SSM ${ssmStatus ?? 'pending'})` });
    await delay(MEMORY_POLL_MS, undefined, { signal: ctx.signal });
  }
  return fail('timed-out', `no image after ${timeoutSeconds} s (SSM status ${ssmStatus ?? 'unknown'})`, {
    commandId,
    ssmStatus,
    uploadId,
    toolArtifact: tool.id,
  });
}

function done(
  ctx: Ec2StepContext<'memory'>,
  receipt: { size: number; sha256: string; avmlExit: number },
  commandId: string | null,
  ssmStatus: string | null,
  uploadId: string | null,
  toolArtifact: string | null = null,
): Ec2Outcome<'memory'> {
  return {
    outputs: { outcome: 'uploaded', reason: null, commandId, ssmStatus, uploadId, toolArtifact, receipt },
    note: `the host uploaded ${ctx.step.inputs.instanceId}'s memory (${receipt.size} bytes)`,
  };
}

/** The pinned AVML as an artifact of this step (what ran on the host is evidence too). */
async function storeTool(ctx: Ec2StepContext<'memory'>): Promise<ArtifactRecord | string> {
  const { avml, instanceId } = ctx.step.inputs;
  const path = ctx.kase.targets.ec2?.avmlBinary ? String(ctx.kase.targets.ec2.avmlBinary) : cachedAvmlPath(ctx.env);
  let stored: ArtifactRecord;
  try {
    stored = await ctx.putArtifact(
      {
        name: MEMORY_NAMES.tool,
        type: 'memory-tool',
        source: { tool: 'avml', version: avml.version, forInstance: instanceId },
        acquiredAt: new Date().toISOString(),
        method: { pinnedSha256: avml.sha256 },
        contentType: 'application/octet-stream',
      },
      createReadStream(path),
    );
  } catch (error) {
    return `the AVML binary ${path} could not be stored: ${(error as Error).message}`;
  }
  // The plan pinned a hash: a binary changed since planning never goes to a host.
  if (stored.sha256 !== avml.sha256)
    return `the AVML binary now has SHA-256 ${stored.sha256}, not the ${avml.sha256} the plan pinned`;
  return stored;
}

/** The host's receipt, recorded as an artifact once it is in the store; undefined until then. */
async function adoptReceipt(
  ctx: Ec2StepContext<'memory'>,
): Promise<{ size: number; sha256: string; avmlExit: number } | undefined> {
  let parsed: { size: number; sha256: string; avmlExit: number } | undefined;
  const artifact = await ctx.remote!.adopt(
    {
      name: MEMORY_NAMES.receipt,
      type: 'memory-host-receipt',
      source: { instanceId: ctx.step.inputs.instanceId },
      acquiredAt: new Date().toISOString(),
      method: { writtenBy: 'the host (advisory: the image in the store is checked and hashed by holdfast)' },
    },
    (head) => {
      try {
        const r = JSON.parse(head.toString('utf8')) as Record<string, unknown>;
        if (typeof r.size !== 'number' || typeof r.sha256 !== 'string' || typeof r.avmlExit !== 'number')
          return 'the host receipt lacks size, sha256 or avmlExit';
        parsed = { size: r.size, sha256: r.sha256, avmlExit: r.avmlExit };
        return undefined;
      } catch {
        return 'the host receipt is not JSON';
      }
    },
  );
  if (!artifact) return undefined;
  // Kept beside the journal: a re-run adopts the recorded receipt without reading it again.
  if (parsed) await ctx.recordIntent({ receipt: parsed });
  const recorded = ctx.previous.intents.filter((i) => (i as JsonObject).receipt).at(-1) as
    { receipt: { size: number; sha256: string; avmlExit: number } } | undefined;
  return parsed ?? recorded?.receipt ?? { size: -1, sha256: '', avmlExit: -1 };
}

/** LiME (v1) or AVML's compressed LiME (v2): the first header of an image, little-endian. */
export function imageFormat(head: Buffer): string | undefined {
  if (head.length < 32) return undefined;
  const magic = head.readUInt32LE(0);
  const version = head.readUInt32LE(4);
  if (magic === 0x4c4d5641 && version === 2) return 'avml-compressed';
  if (magic === 0x4c694d45 && version === 1) return 'lime';
  return undefined;
}

/** After containment: complete a multipart upload, then adopt the image (hashed here) or fail the step. */
export async function runMemoryImage(ctx: Ec2StepContext<'memory-image'>): Promise<Ec2Outcome<'memory-image'>> {
  const { instanceId, acquireStep, avml } = ctx.step.inputs;
  const acquired = ec2OutputOf(ctx, 'memory', acquireStep);
  const remote = ctx.remote;
  if (!remote) throw new BadInputError({ field: 'store', message: 'memory images need an S3 evidence store' });
  const key = remote.keyOf(MEMORY_NAMES.image, acquireStep);
  // A multipart upload is finished here, from the parts S3 holds (a re-run finds it finished already).
  let completeProblem = '';
  if (acquired?.uploadId && acquired.receipt)
    await remote.complete(key, acquired.uploadId).catch((error: Error) => void (completeProblem = error.name));
  let format: string | undefined;
  const receipt = acquired?.receipt && acquired.receipt.size >= 0 ? acquired.receipt : null;
  const method: JsonObject = {
    api: 'ssm:SendCommand(AWS-RunShellScript)',
    tool: 'avml',
    toolVersion: avml.version,
    toolSha256: avml.sha256,
    ...(acquired?.toolArtifact ? { toolArtifact: acquired.toolArtifact } : {}),
    ssmCommandId: acquired?.commandId ?? null,
    ssmStatus: acquired?.ssmStatus ?? null,
    ssmStatusIsAdvisory: true,
    ...(receipt ? { hostReported: { size: receipt.size, sha256: receipt.sha256 } } : {}),
  };
  const artifact = await remote.adopt(
    {
      name: MEMORY_NAMES.image,
      type: 'memory-image',
      source: { instanceId, region: ctx.step.inputs.region },
      acquiredAt: new Date().toISOString(),
      method,
    },
    (head, size, sha256) => {
      format = imageFormat(head);
      if (!format) return 'not a LiME or AVML image (no header)';
      method.format = format;
      if (receipt && size < receipt.size)
        return `short image: ${size} bytes in the store, the host wrote ${receipt.size}`;
      if (receipt && (size !== receipt.size || sha256 !== receipt.sha256))
        return `the stored image (${size} bytes, sha256 ${sha256}) is not what the host read (${receipt.size} bytes, sha256 ${receipt.sha256})`;
      return undefined;
    },
    acquireStep,
  );
  if (!artifact)
    throw new RemoteError(
      `no memory image of ${instanceId} at ${key}: ${acquired?.reason ?? (completeProblem ? `CompleteMultipartUpload failed: ${completeProblem}` : 'the acquisition did not finish')}`,
      false,
    );
  format ??= String(artifact.method.format ?? 'avml-compressed');
  return { outputs: { sha256: artifact.sha256!, size: artifact.size!, format } };
}
