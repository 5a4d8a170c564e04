import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertAwsCommandAllowed, assertKubeRequestAllowed, GuardRefusal } from '../../src/core/guard.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs|js)$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('the do-not-delete guard', () => {
  it.each([
    'DeleteSnapshotCommand',
    'TerminateInstancesCommand',
    'StopInstancesCommand',
    'DeleteObjectCommand',
    'DeleteObjectsCommand',
    'DeleteDBInstanceCommand',
    'StopDBClusterCommand',
    'RebootDBInstanceCommand',
    'DetachVolumeCommand',
    'DeregisterImageCommand',
    'PutBucketLifecycleConfigurationCommand',
    'ScheduleKeyDeletionCommand',
    'AbortMultipartUploadCommand',
  ])('refuses %s', (name) => {
    expect(() => assertAwsCommandAllowed(name)).toThrow(GuardRefusal);
  });

  it('refuses writes that could overwrite or unlock evidence', () => {
    expect(() => assertAwsCommandAllowed('PutObjectCommand', { Bucket: 'b', Key: 'k' })).toThrow(/IfNoneMatch/);
    expect(() => assertAwsCommandAllowed('CompleteMultipartUploadCommand', {})).toThrow(/IfNoneMatch/);
    expect(() => assertAwsCommandAllowed('PutObjectRetentionCommand', { BypassGovernanceRetention: true })).toThrow(
      /shortens/,
    );
    expect(() => assertAwsCommandAllowed('ModifyDBInstanceCommand', { DeletionProtection: false })).toThrow(
      /deletion protection/,
    );
  });

  it('lets the calls holdfast needs through', () => {
    for (const name of [
      'CreateSnapshotsCommand',
      'ModifyNetworkInterfaceAttributeCommand',
      'CreateSecurityGroupCommand',
      'RevokeSecurityGroupEgressCommand',
      'DeregisterTargetsCommand',
      'EnterStandbyCommand',
      'CreateDBSnapshotCommand',
    ]) {
      expect(() => assertAwsCommandAllowed(name)).not.toThrow();
    }
    expect(() => assertAwsCommandAllowed('PutObjectCommand', { IfNoneMatch: '*' })).not.toThrow();
    expect(() => assertAwsCommandAllowed('ModifyDBInstanceCommand', { DeletionProtection: true })).not.toThrow();
  });

  it('refuses Kubernetes deletes and evictions', () => {
    expect(() => assertKubeRequestAllowed('DELETE', '/api/v1/namespaces/a/pods/p')).toThrow(GuardRefusal);
    expect(() => assertKubeRequestAllowed('POST', '/api/v1/namespaces/a/pods/p/eviction')).toThrow(GuardRefusal);
    expect(() => assertKubeRequestAllowed('PATCH', '/api/v1/namespaces/a/pods/p')).not.toThrow();
  });

  it('no destructive API call appears anywhere in src/ or providers/ (static scan)', () => {
    const pattern =
      /\b(Delete|Terminate|Stop|Reboot)[A-Za-z]*Command\b|\bdeleteNamespaced|\bdeleteCollection|\.delete[A-Z][A-Za-z]*\(|\bevictNamespacedPod|createNamespacedPodEviction/;
    const offenders: string[] = [];
    for (const file of [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'providers'))]) {
      if (file.endsWith('guard.ts')) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (pattern.test(line) && !/^\s*(\/\/|\*)/.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
