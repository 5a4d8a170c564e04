/**
 * Every provider reads its booleans, lists and numbers through one helper (`paramReader`): "yes"
 * for a boolean is refused with a problem naming the field, never read as false.
 */
import { describe, expect, it } from 'vitest';
import { paramReader } from '../../src/core/provider-kit.js';
import { builtinProviders } from '../../src/engine/registry.js';
import type { JsonObject } from '../../src/core/types.js';

/** One valid target per provider and one of its boolean params. */
const TARGETS: Record<string, { valid: JsonObject; flag: string }> = {
  ec2: { valid: { instances: ['i-0123456789abcdef0'] }, flag: 'hashSnapshots' },
  rds: { valid: { dbInstances: ['db1'] }, flag: 'approvePending' },
  dump: { valid: { urls: ['postgres://u@db.example/app'], passwordEnv: 'PGPASSWORD' }, flag: 'serializableDeferrable' },
  kubernetes: { valid: { pods: ['shop/web'] }, flag: 'checkpoint' },
  iam: { valid: { roles: ['r1'] }, flag: 'revokeRoleSessions' },
};

describe('provider params', () => {
  it('covers every built-in provider', () => {
    expect(builtinProviders.map((p) => p.id).sort()).toEqual(Object.keys(TARGETS).sort());
  });

  it.each(builtinProviders.map((p) => [p.id, p] as const))('%s: "yes" is refused, naming the field', (id, provider) => {
    const { valid, flag } = TARGETS[id]!;
    const refused = provider.parseParams({ ...valid, [flag]: 'yes' });
    expect(refused.params).toBeUndefined();
    expect(refused.problems).toContainEqual(
      expect.objectContaining({ field: `targets.${id}.${flag}`, message: '"yes" is not true or false' }),
    );
    for (const [given, read] of [
      [true, true],
      ['true', true],
      [false, false],
      ['false', false],
    ] as const) {
      const parsed = provider.parseParams({ ...valid, [flag]: given });
      expect(parsed.problems).toEqual([]);
      expect(Boolean((parsed.params as JsonObject)[flag])).toBe(read);
    }
    expect(provider.parseParams({ ...valid, bogus: 1 }).problems).toContainEqual({
      field: `targets.${id}.bogus`,
      message: 'unknown field',
    });
  });

  it('whole numbers name their unit and bounds; texts and lists keep their paths', () => {
    const read = paramReader('x', { days: '2.5', name: 'n', items: ['a,b', 'c'] }, ['days', 'name', 'items']);
    expect(read.wholeNumber('days', 1, 10, 'days')).toBe(2.5);
    expect(read.problems).toEqual([
      { field: 'targets.x.days', message: 'expected whole days from 1 to 10, got "2.5"' },
    ]);
    expect(read.text('name')).toBe('n');
    expect(read.text('missing')).toBeNull();
    expect(read.list('items', true)).toEqual([
      { text: 'a', at: 'targets.x.items[0]' },
      { text: 'b', at: 'targets.x.items[0]' },
      { text: 'c', at: 'targets.x.items[1]' },
    ]);
  });
});
