/** Collect: the instance's configuration and console output as hashed artifacts, and one crash-consistent snapshot set. */
import { InternalError } from '../../src/errors.js';
import type { StepContext, StepOutcome } from '../../src/types.js';
import { consoleOutput, createInstanceSnapshots, describeEnis, describeInstances, describeVolumesOf, instanceAttribute, snapshotsByTags } from './client.js';
import { ec2ClientsFor } from './context.js';

/** Full describe output (instance, interfaces with their groups, volumes, protection) and console output. */
export async function runDescribe(ctx: StepContext): Promise<StepOutcome> {
  const c = ec2ClientsFor(ctx);
  const { instanceId, facts } = ctx.step.inputs as { instanceId: string; facts: { enis: { id: string }[] } };
  const at = new Date().toISOString();
  const [instance] = await describeInstances(c, { ids: [instanceId] });
  const enis = await describeEnis(c, facts.enis.map((e) => e.id));
  const volumes = await describeVolumesOf(c, [instanceId]);
  const attributes = {
    disableApiTermination: await instanceAttribute(c, instanceId, 'disableApiTermination'),
    instanceInitiatedShutdownBehavior: await instanceAttribute(c, instanceId, 'instanceInitiatedShutdownBehavior'),
  };
  const source = { instanceId, region: String(ctx.step.inputs.region ?? ctx.env.AWS_REGION ?? '') };
  await ctx.putArtifact(
    { name: 'describe.json', type: 'ec2-describe', source, acquiredAt: at, method: { api: 'DescribeInstances+DescribeNetworkInterfaces+DescribeVolumes', consistency: 'read at acquiredAt' }, contentType: 'application/json' },
    `${JSON.stringify({ instance, networkInterfaces: enis, volumes, attributes }, null, 2)}\n`,
  );
  const limitations: string[] = [];
  try {
    const console = await consoleOutput(c, instanceId);
    await ctx.putArtifact(
      { name: 'console-output.txt', type: 'ec2-console-output', source, acquiredAt: console.timestamp ?? at, method: { api: 'GetConsoleOutput', latest: true }, contentType: 'text/plain' },
      console.output,
    );
  } catch (error) {
    limitations.push(`console output of ${instanceId} could not be read: ${(error as Error).name}`);
  }
  return { limitations };
}

/** One CreateSnapshots call per instance; a re-run finds the set by its tags instead of making another. */
export async function runSnapshot(ctx: StepContext): Promise<StepOutcome> {
  const c = ec2ClientsFor(ctx);
  const { instanceId, volumes, region } = ctx.step.inputs as { instanceId: string; volumes: string[]; region: string };
  const tags = { 'holdfast:incident': ctx.incident, 'holdfast:step': ctx.step.id, 'holdfast:instance': instanceId, 'holdfast:do-not-delete': 'true' };
  let snapshots = await snapshotsByTags(c, { 'holdfast:incident': ctx.incident, 'holdfast:step': ctx.step.id });
  let adopted = snapshots.length > 0;
  if (!snapshots.length) {
    ctx.recordIntent({ create: 'ebs-snapshot-set', instanceId, volumes, tags });
    snapshots = await createInstanceSnapshots(c, instanceId, `holdfast ${ctx.incident}: evidence of ${instanceId}`, tags);
    adopted = false;
  }
  if (!snapshots.length) throw new InternalError(`CreateSnapshots for ${instanceId} returned no snapshots`);
  for (const s of snapshots) {
    ctx.recordArtifact({
      name: s.SnapshotId!,
      type: 'ebs-snapshot',
      source: { instanceId, volumeId: s.VolumeId ?? null, region, sizeGiB: s.VolumeSize ?? null },
      // The snapshot's point in time is the request, even while it is pending.
      acquiredAt: (s.StartTime ?? new Date()).toISOString(),
      location: { snapshotId: s.SnapshotId!, region, encrypted: Boolean(s.Encrypted), ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}) },
      method: { api: 'CreateSnapshots', consistency: 'crash-consistent across all volumes of the instance' },
      preservation: { tags },
    });
  }
  const missing = volumes.filter((v) => !snapshots.some((s) => s.VolumeId === v));
  return {
    outputs: { snapshotIds: snapshots.map((s) => s.SnapshotId!), adopted },
    limitations: missing.length ? [`no snapshot of ${missing.join(', ')} (attached after discovery?)`] : [],
    ...(adopted ? { note: `found the existing snapshot set of ${instanceId}` } : {}),
  };
}
