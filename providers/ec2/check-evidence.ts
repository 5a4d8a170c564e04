/**
 * Verify's online check of EBS snapshots: the evidence is the platform's, so check that it still
 * exists, completed, with the tags, source volume and start time recorded, and still locked where
 * it was locked. A deleted or re-tagged snapshot fails verify like an edited file.
 */
import { IntegrityError } from '../../src/core/errors.js';
import type { ArtifactRecord, HeldEvidenceResult, HeldEvidenceContext } from '../../src/core/types.js';
import { findSnapshot, getSnapshotBlock, listSnapshotBlocks, snapshotLock } from './client.js';
import { hashSnapshotImage } from './snapshot-image.js';
import { ec2ClientsFor } from './context.js';
import { ebsDirectFailure } from './ebs-direct-failure.js';
import { resolveRegion } from '../../src/aws/config.js';

/** Artifact types this check owns. */
export const EBS_SNAPSHOT_TYPES = ['ebs-snapshot', 'ebs-snapshot-copy'];

export async function checkEbsSnapshot(
  artifact: ArtifactRecord,
  ctx: HeldEvidenceContext,
  options: { hashContent?: boolean } = {},
): Promise<HeldEvidenceResult> {
  const id = String(artifact.location.snapshotId ?? '');
  const region = typeof artifact.location.region === 'string' ? artifact.location.region : ctx.kase.region;
  const c = ec2ClientsFor({ ...ctx, kase: { ...ctx.kase, ...(region ? { region } : {}) } });
  const snap = await findSnapshot(c, id);
  if (!snap) return { ok: false, detail: `snapshot ${id} no longer exists in ${region ?? 'the region'}` };
  const problems: string[] = [];
  if (snap.State !== 'completed') problems.push(`state ${snap.State ?? 'unknown'}, not completed`);
  const recordedVolume = artifact.source.volumeId;
  if (typeof recordedVolume === 'string' && snap.VolumeId !== recordedVolume)
    problems.push(`source volume ${snap.VolumeId ?? 'none'}, recorded ${recordedVolume}`);
  if (artifact.type === 'ebs-snapshot' && snap.StartTime && snap.StartTime.toISOString() !== artifact.acquiredAt)
    problems.push(`start time ${snap.StartTime.toISOString()}, recorded ${artifact.acquiredAt}`);
  const tags = Object.fromEntries((snap.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const recordedTags = (artifact.preservation?.tags ?? {}) as Record<string, unknown>;
  const missing = Object.entries(recordedTags).filter(([k, v]) => tags[k] !== v);
  if (missing.length)
    problems.push(`tags changed or removed: ${missing.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
  const lock = artifact.preservation?.lock as { lockExpiresOn?: string } | undefined;
  if (lock) {
    const now = await snapshotLock(c, id);
    if (!now?.lockState || now.lockState === 'expired') problems.push('no longer locked');
    else if (lock.lockExpiresOn && now.lockExpiresOn && Date.parse(now.lockExpiresOn) < Date.parse(lock.lockExpiresOn))
      problems.push(`lock shortened from ${lock.lockExpiresOn} to ${now.lockExpiresOn}`);
  }
  let image = '';
  if (options.hashContent && !problems.length) {
    // The recorded image hash, when a capture recorded one (method.imageSha256); else this run's is reported.
    const recorded = typeof artifact.method.imageSha256 === 'string' ? artifact.method.imageSha256 : undefined;
    const api = {
      list: (next?: string) => listSnapshotBlocks(c, id, next),
      get: (i: number, t: string) => getSnapshotBlock(c, id, i, t, ctx.signal),
    };
    try {
      const hashed = await hashSnapshotImage(api, id, { signal: ctx.signal });
      if (recorded && recorded !== hashed.sha256) problems.push(`image sha256 ${hashed.sha256}, recorded ${recorded}`);
      image = `; image sha256 ${hashed.sha256} (${hashed.size} bytes, ${hashed.writtenBlocks} written blocks${recorded ? ', as recorded' : ', none recorded to compare'})`;
    } catch (error) {
      const failure = ebsDirectFailure(error, id, resolveRegion(region, ctx.env));
      // A block that does not match EBS's own checksum is a finding; an unreadable image is not.
      if (failure instanceof IntegrityError) problems.push(`image: ${failure.message}`);
      else if (!ctx.signal.aborted)
        return {
          ok: false,
          couldNotCheck: true,
          detail: `snapshot ${id} exists, completed, as recorded; its image was not checked: ${failure.message}`,
        };
      else throw error;
    }
  }
  return problems.length
    ? { ok: false, detail: `snapshot ${id}: ${problems.join('; ')}` }
    : {
        ok: true,
        detail: `snapshot ${id} exists, completed, volume ${snap.VolumeId ?? '?'}, started ${snap.StartTime?.toISOString() ?? '?'}, ${Object.keys(recordedTags).length} recorded tags present${lock ? ', still locked' : ''}${image}`,
      };
}
