/** Compliance locks on snapshots, shared by the snapshot step (the set) and settle (the copies). */
import { isUnsupported } from '../../src/aws/errors.js';
import type { JsonObject } from '../../src/core/types.js';
import { lockSnapshot, SNAPSHOT_LOCK_COOL_OFF_HOURS, type Ec2Clients } from './client.js';

/**
 * Lock each snapshot for `days` (LockSnapshot works on pending snapshots, so evidence is locked at
 * once). Returns the lock per snapshot id for the artifact's `preservation`, and a limitation per
 * snapshot where the API does not exist. Locking again on a re-run only extends a lock.
 */
export async function lockSnapshots(
  c: Ec2Clients,
  ids: string[],
  days: number,
): Promise<{ locks: Record<string, JsonObject>; limitations: string[] }> {
  const locks: Record<string, JsonObject> = {};
  const limitations: string[] = [];
  for (const id of ids) {
    try {
      const res = await lockSnapshot(c, id, days);
      locks[id] = {
        lock: { mode: 'compliance', durationDays: days, coolOffHours: SNAPSHOT_LOCK_COOL_OFF_HOURS, ...res },
      };
    } catch (error) {
      // The endpoint does not offer the API (moto answers an HTML 500 that is no AWS error); a real
      // InternalError or ServiceUnavailable is transient and is retried instead.
      if (!isUnsupported(error)) throw error;
      limitations.push(
        `LockSnapshot is not available here (${(error as Error).name}); ${id} is protected by tags and IAM only`,
      );
    }
  }
  return { locks, limitations };
}
