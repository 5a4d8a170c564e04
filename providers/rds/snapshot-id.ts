/** RDS snapshot identifiers that always satisfy RDS's rules, derived deterministically so a re-run finds them. */
import { createHash } from 'node:crypto';

/** Cluster snapshot identifiers are limited to 63 characters (instance ones to 255: use the stricter). */
export const MAX_RDS_SNAPSHOT_ID_LENGTH = 63;
const HASH_LENGTH = 8;

/**
 * `hf-<incident>-<resource>` in lower case; letters, digits and single hyphens; starts with a letter;
 * no trailing hyphen; shortened with a hash of the full name when too long.
 */
export function rdsSnapshotIdentifier(incident: string, resource: string): string {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-|-$/g, '');
  const full = `hf-${clean(incident)}-${clean(resource)}`.replace(/-+/g, '-').replace(/-$/, '');
  if (full.length <= MAX_RDS_SNAPSHOT_ID_LENGTH) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_LENGTH);
  const head = full.slice(0, MAX_RDS_SNAPSHOT_ID_LENGTH - HASH_LENGTH - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

/** True when `id` satisfies the RDS rules (used by tests and as a guard before calling RDS). */
export function isValidRdsSnapshotIdentifier(id: string): boolean {
  return (
    id.length <= MAX_RDS_SNAPSHOT_ID_LENGTH && /^[a-z][a-z0-9-]*$/.test(id) && !id.includes('--') && !id.endsWith('-')
  );
}
