/**
 * Verify's online check of RDS snapshots: still there, available, from the recorded database, made
 * when recorded, carrying the recorded tags. A deleted or re-tagged snapshot fails verify.
 */
import type { ArtifactRecord, HeldEvidenceResult, HeldEvidenceContext } from '../../src/core/types.js';
import { findDbSnapshot } from './client.js';
import { rdsClientsFor } from './context.js';

export async function checkRdsSnapshot(
  artifact: ArtifactRecord,
  ctx: HeldEvidenceContext,
): Promise<HeldEvidenceResult> {
  const kind = artifact.type === 'rds-snapshot' ? 'instance' : 'cluster';
  const id = String(artifact.location.snapshotId ?? '');
  const region = typeof artifact.location.region === 'string' ? artifact.location.region : ctx.kase.region;
  const c = rdsClientsFor({ ...ctx, kase: { ...ctx.kase, ...(region ? { region } : {}) } });
  const snap = await findDbSnapshot(c, kind, id);
  if (!snap) return { ok: false, detail: `${artifact.type} ${id} no longer exists in ${region ?? 'the region'}` };
  const problems: string[] = [];
  if (snap.status !== 'available') problems.push(`status ${snap.status}, not available`);
  const recordedSource = artifact.source[kind === 'instance' ? 'dbInstance' : 'dbCluster'];
  if (typeof recordedSource === 'string' && snap.source && snap.source !== recordedSource)
    problems.push(`source ${snap.source}, recorded ${recordedSource}`);
  if (snap.createdAt && snap.createdAt !== artifact.acquiredAt)
    problems.push(`created ${snap.createdAt}, recorded ${artifact.acquiredAt}`);
  const recordedTags = (artifact.preservation?.tags ?? {}) as Record<string, unknown>;
  const missing = Object.entries(recordedTags).filter(([k, v]) => snap.tags?.[k] !== v);
  if (missing.length)
    problems.push(`tags changed or removed: ${missing.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
  return problems.length
    ? { ok: false, detail: `${artifact.type} ${id}: ${problems.join('; ')}` }
    : {
        ok: true,
        detail: `${artifact.type} ${id} exists, available, from ${snap.source ?? '?'}, created ${snap.createdAt ?? '?'}, ${Object.keys(recordedTags).length} recorded tags present`,
      };
}
