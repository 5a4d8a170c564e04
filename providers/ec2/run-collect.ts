/** Collect: the instance's configuration and console output as hashed artifacts, and one crash-consistent snapshot set. */
import { setTimeout as delay } from 'node:timers/promises';
import { InternalError } from '../../src/core/errors.js';
import { consoleOutput, consoleScreenshot, createInstanceSnapshots, type OwnedInstance } from './client.js';
import { ec2ClientsFor } from './context.js';
import { ec2FleetFor } from './fleet.js';
import type { Ec2Outcome, Ec2StepContext } from './steps.js';
import { lockSnapshots } from './snapshot-lock.js';

/** Full describe output (instance, interfaces with their groups, volumes, protection), console output and screenshot. */
export async function runDescribe(ctx: Ec2StepContext<'describe'>): Promise<Ec2Outcome<'describe'>> {
  const c = ec2ClientsFor(ctx);
  const fleet = ec2FleetFor(ctx);
  const { instanceId, region, facts } = ctx.step.inputs;
  const at = new Date().toISOString();
  // What is attached now, not what the plan saw: this is the record release and forensics rely on.
  // Shared reads: the instance and its attributes as preserve read them (before it set anything,
  // unless an earlier run did), interfaces and volumes batched across the fleet; each says when.
  const [instanceRead, eniRead, volumeRead, attributeRead] = await Promise.all([
    fleet.instance(instanceId),
    fleet.enis(instanceId),
    fleet.volumes(instanceId),
    fleet.attributes(instanceId),
  ]);
  const instance = instanceRead.value as OwnedInstance | undefined;
  const enis = eniRead.value;
  const volumes = volumeRead.value;
  const attributes = attributeRead.value;
  const readAt = {
    instance: instanceRead.readAt,
    networkInterfaces: eniRead.readAt,
    volumes: volumeRead.readAt,
    attributes: attributeRead.readAt,
  };
  const acquiredAt = Object.values(readAt).sort()[0] ?? at;
  const account = instance?.OwnerId ?? facts.accountId;
  const source = {
    instanceId,
    region,
    ...(account ? { account, arn: `arn:${partitionOf(region)}:ec2:${region}:${account}:instance/${instanceId}` } : {}),
  };
  await ctx.putArtifact(
    {
      name: 'describe.json',
      type: 'ec2-describe',
      source,
      acquiredAt,
      method: {
        api: 'DescribeInstances+DescribeNetworkInterfaces+DescribeVolumes+DescribeInstanceAttribute',
        consistency:
          'each part read at its readAt (from acquiredAt on); attributes show what preservation set, the changes are in the manifest',
      },
      contentType: 'application/json',
    },
    `${JSON.stringify({ instance, networkInterfaces: enis, volumes, attributes, readAt }, null, 2)}\n`,
  );
  const limitations: string[] = [];
  try {
    const console = await consoleOutput(c, instanceId);
    await ctx.putArtifact(
      {
        name: 'console-output.txt',
        type: 'ec2-console-output',
        source,
        acquiredAt: console.timestamp ?? at,
        method: { api: 'GetConsoleOutput', latest: true },
        contentType: 'text/plain',
      },
      console.output,
    );
  } catch (error) {
    limitations.push(`console output of ${instanceId} could not be read: ${(error as Error).name}`);
  }
  try {
    const screen = await consoleScreenshot(c, instanceId);
    // An empty answer is no screenshot: an artifact of zero bytes would look like evidence.
    if (!screen.length) throw Object.assign(new Error('no image data'), { name: 'EmptyScreenshot' });
    await ctx.putArtifact(
      {
        name: 'console-screenshot.jpg',
        type: 'ec2-console-screenshot',
        source,
        acquiredAt: new Date().toISOString(),
        method: { api: 'GetConsoleScreenshot', wakeUp: false },
        contentType: 'image/jpeg',
      },
      screen,
    );
  } catch (error) {
    // Instance types without a screenshot (some bare metal, Graviton) answer UnsupportedOperation.
    limitations.push(`console screenshot of ${instanceId} could not be taken: ${(error as Error).name}`);
  }
  return { limitations };
}

/** The ARN partition of a region. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** At least this long between two snapshots of one volume: EC2 throttles a volume's snapshots taken closer together (SnapshotCreationPerVolumeRateExceeded). */
export const SNAPSHOT_SPACING_MS = 15_000;

type SnapshotIntent = { create?: string; requestedAt?: string };

/**
 * One CreateSnapshots call per instance; a re-run finds the set by its tags instead of making another.
 * CreateSnapshots has no client token, so after an interrupted request we look again once the
 * spacing has passed (tags on a new snapshot can take a moment to be searchable) before retaking.
 */
export async function runSnapshot(ctx: Ec2StepContext<'snapshot'>): Promise<Ec2Outcome<'snapshot'>> {
  const c = ec2ClientsFor(ctx);
  const { instanceId, volumes, region, lockDays } = ctx.step.inputs;
  const tags = {
    'holdfast:incident': ctx.incident,
    'holdfast:step': ctx.step.id,
    'holdfast:instance': instanceId,
    'holdfast:do-not-delete': 'true',
  };
  const fleet = ec2FleetFor(ctx);
  const find = () => fleet.snapshotsOfStep(ctx.step.id);
  const interrupted = (ctx.previous.intents as SnapshotIntent[]).filter((i) => i.create === 'ebs-snapshot-set').at(-1);
  // After an interrupted request, look now (one filtered call for a batch of instances); otherwise
  // the incident's snapshots as read once for the whole capture (no call per instance) are enough.
  let snapshots = interrupted ? await find() : await fleet.snapshotsFoundAtStart(ctx.step.id);
  if (!snapshots.length && interrupted?.requestedAt) {
    const wait = Date.parse(interrupted.requestedAt) + SNAPSHOT_SPACING_MS - Date.now();
    if (wait > 0) {
      ctx.progress(
        `an earlier CreateSnapshots for ${instanceId} was interrupted; looking again in ${Math.ceil(wait / 1000)} s before retaking`,
      );
      await delay(wait, undefined, { signal: ctx.signal });
      snapshots = await find();
    }
  }
  const adopted = snapshots.length > 0;
  if (!adopted) {
    await ctx.recordIntent({
      create: 'ebs-snapshot-set',
      instanceId,
      volumes,
      tags,
      requestedAt: new Date().toISOString(),
    });
    snapshots = await createInstanceSnapshots(
      c,
      instanceId,
      `holdfast ${ctx.incident}: evidence of ${instanceId}`,
      tags,
    );
  }
  if (!snapshots.length) throw new InternalError(`CreateSnapshots for ${instanceId} returned no snapshots`);
  if (!adopted && interrupted) {
    // A set made by an earlier attempt whose answer was lost (and not yet searchable then) is evidence
    // too. With no earlier intent there was no earlier attempt: no look-up.
    const ids = new Set(snapshots.map((s) => s.SnapshotId));
    snapshots.push(...(await find()).filter((s) => !ids.has(s.SnapshotId)));
  }
  // No per-snapshot source tag: EC2 records each snapshot's source in its own VolumeId (set by EC2,
  // not editable), and the artifact records it as source.volumeId, which verify compares. A tag
  // would only repeat it, at one CreateTags per snapshot on the way to containment.
  const limitations: string[] = [];
  // Locked at once, while pending: the lock protects the evidence during the hours a set can take.
  const locked = lockDays
    ? await lockSnapshots(
        c,
        snapshots.map((s) => s.SnapshotId!),
        lockDays,
      )
    : undefined;
  limitations.push(...(locked?.limitations ?? []));
  for (const s of snapshots) {
    ctx.recordArtifact({
      name: s.SnapshotId!,
      type: 'ebs-snapshot',
      source: { instanceId, volumeId: s.VolumeId ?? null, region, sizeGiB: s.VolumeSize ?? null },
      // The snapshot's point in time is the request, even while it is pending.
      acquiredAt: (s.StartTime ?? new Date()).toISOString(),
      location: {
        snapshotId: s.SnapshotId!,
        region,
        encrypted: Boolean(s.Encrypted),
        ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}),
      },
      method: { api: 'CreateSnapshots', consistency: 'crash-consistent across all volumes of the instance' },
      preservation: {
        tags,
        ...(locked?.locks[s.SnapshotId!] ?? {}),
      },
    });
  }
  const missing = volumes.filter((v) => !snapshots.some((s) => s.VolumeId === v));
  const extra = [...new Set(snapshots.map((s) => s.VolumeId))].filter(
    (v) => snapshots.filter((s) => s.VolumeId === v).length > 1,
  );
  if (extra.length)
    limitations.push(
      `more than one snapshot of ${extra.join(', ')} carries this incident's tags (an earlier attempt's answer was lost): every one is recorded`,
    );
  return {
    outputs: { snapshotIds: snapshots.map((s) => s.SnapshotId!), adopted },
    limitations: [
      ...limitations,
      ...(missing.length ? [`no snapshot of ${missing.join(', ')} (attached after discovery?)`] : []),
    ],
    ...(adopted ? { note: `found the existing snapshot set of ${instanceId}` } : {}),
  };
}
