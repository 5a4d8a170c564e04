import { describe, expect, it } from 'vitest';
import {
  isValidRdsSnapshotIdentifier,
  MAX_RDS_SNAPSHOT_ID_LENGTH,
  rdsSnapshotIdentifier,
} from '../../providers/rds/snapshot-id.js';

describe('rdsSnapshotIdentifier', () => {
  it.each([
    ['IR-2026-0042', 'db-orders'],
    ['IR-2026-0042', 'cluster-Orders_Prod.v2--blue-'],
    ['IR-X-1', `db-${'a'.repeat(80)}`],
    ['IR-X-1', `db-${'a-'.repeat(40)}`],
    ['Ir-9', 'cluster---'],
  ])('%s + %s always satisfies RDS rules', (incident, resource) => {
    const id = rdsSnapshotIdentifier(incident, resource);
    expect(isValidRdsSnapshotIdentifier(id), id).toBe(true);
    expect(id.length).toBeLessThanOrEqual(MAX_RDS_SNAPSHOT_ID_LENGTH);
    expect(rdsSnapshotIdentifier(incident, resource)).toBe(id);
  });

  it('keeps long names distinct through a hash', () => {
    const a = rdsSnapshotIdentifier('IR-X-1', `db-${'a'.repeat(70)}-one`);
    const b = rdsSnapshotIdentifier('IR-X-1', `db-${'a'.repeat(70)}-two`);
    expect(a).not.toBe(b);
  });

  it('reads naturally when short', () => {
    expect(rdsSnapshotIdentifier('IR-2026-0042', 'db-orders')).toBe('hf-ir-2026-0042-db-orders');
  });
});
