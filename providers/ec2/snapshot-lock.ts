/** Compliance locks on snapshots, shared by the snapshot step (the set) and settle (the copies). */
import type { JsonObject } from '../../src/core/types.js';
import { lockSnapshot, SNAPSHOT_LOCK_COOL_OFF_HOURS, type Ec2Clients } from './client.js';

/**
 * The endpoint does not offer the API at all (an emulator or an old partition): moto answers an HTML
 * 500 that is no AWS error. A real InternalError/ServiceUnavailable is transient and is retried instead.
 */
function isUnavailableApi(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? '';
  if (/NotImplemented|InvalidAction|UnknownOperation/i.test(name)) return true;
  return e.$metadata?.httpStatusCode === 500 && !/Internal|Unavailable|Throttl/i.test(name);
}

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
      if (!isUnavailableApi(error)) throw error;
      limitations.push(
        `LockSnapshot is not available here (${(error as Error).name}); ${id} is protected by tags and IAM only`,
      );
    }
  }
  return { locks, limitations };
}
