import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assertAwsCommandAllowed,
  assertKubeRequestAllowed,
  GuardRefusal,
  isHoldfastRevocationPolicyArn,
} from '../../src/core/guard.js';
import { guardAwsClient } from '../../src/aws/guard-client.js';

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
      'CreatePolicyCommand',
      'AttachRolePolicyCommand',
      'UpdateAccessKeyCommand',
    ]) {
      expect(() => assertAwsCommandAllowed(name)).not.toThrow();
    }
    expect(() => assertAwsCommandAllowed('PutObjectCommand', { IfNoneMatch: '*' })).not.toThrow();
    expect(() => assertAwsCommandAllowed('ModifyDBInstanceCommand', { DeletionProtection: true })).not.toThrow();
  });

  it.each([
    'DeleteAccessKeyCommand',
    'DeleteRoleCommand',
    'DeletePolicyCommand',
    'DeleteLoginProfileCommand',
    'RemoveRoleFromInstanceProfileCommand',
    'RemoveUserFromGroupCommand',
    'DetachUserPolicyCommand',
    'DetachGroupPolicyCommand',
    'PutRolePolicyCommand',
    'PutUserPolicyCommand',
    'UpdateAssumeRolePolicyCommand',
    'CreatePolicyVersionCommand',
    'SetDefaultPolicyVersionCommand',
    'DeactivateMFADeviceCommand',
  ])('refuses IAM %s', (name) => {
    expect(() => assertAwsCommandAllowed(name, {}, { release: true })).toThrow(GuardRefusal);
  });

  const OURS = 'arn:aws:iam::123456789012:policy/holdfast/holdfast-revoke-IR-1-web';
  it("lets DetachRolePolicy through only on a release client and only for holdfast's revocation policy", () => {
    expect(() => assertAwsCommandAllowed('DetachRolePolicyCommand', { RoleName: 'web', PolicyArn: OURS })).toThrow(
      GuardRefusal,
    );
    expect(() =>
      assertAwsCommandAllowed('DetachRolePolicyCommand', { RoleName: 'web', PolicyArn: OURS }, { release: true }),
    ).not.toThrow();
    for (const other of [
      'arn:aws:iam::aws:policy/AdministratorAccess',
      'arn:aws:iam::123456789012:policy/holdfast-revoke-IR-1-web',
      'arn:aws:iam::123456789012:policy/holdfast/other',
      'arn:aws:iam::123456789012:policy/x/holdfast/holdfast-revoke-IR-1-web',
      `${OURS}/../../AdministratorAccess`,
      undefined,
    ])
      expect(
        () =>
          assertAwsCommandAllowed('DetachRolePolicyCommand', { RoleName: 'web', PolicyArn: other }, { release: true }),
        String(other),
      ).toThrow(GuardRefusal);
    expect(isHoldfastRevocationPolicyArn(OURS)).toBe(true);
  });

  it("fixes a client's mode when it is built (the release exception cannot be switched on later)", async () => {
    type Mw = (next: (a: unknown) => Promise<unknown>, c: { commandName: string }) => (a: unknown) => Promise<unknown>;
    const added: Mw[] = [];
    const build = (mode?: { release?: boolean }) => {
      const client = { middlewareStack: { add: (mw: unknown) => added.push(mw as Mw) } };
      const m = mode ? { ...mode } : undefined;
      guardAwsClient(client, m);
      if (m) m.release = false;
      return added[added.length - 1]!;
    };
    const send = (mw: Mw) =>
      mw(async () => 'sent', { commandName: 'DetachRolePolicyCommand' })({
        input: { RoleName: 'web', PolicyArn: OURS },
      });
    await expect(send(build())).rejects.toThrow(GuardRefusal);
    await expect(send(build({ release: true }))).resolves.toBe('sent');
  });

  it('refuses Kubernetes deletes and evictions', () => {
    expect(() => assertKubeRequestAllowed('DELETE', '/api/v1/namespaces/a/pods/p')).toThrow(GuardRefusal);
    expect(() => assertKubeRequestAllowed('POST', '/api/v1/namespaces/a/pods/p/eviction')).toThrow(GuardRefusal);
    expect(() => assertKubeRequestAllowed('PATCH', '/api/v1/namespaces/a/pods/p')).not.toThrow();
  });

  it("lets SQS DeleteMessage through only on the watch daemon's queue client, and nothing else that deletes", () => {
    expect(() => assertAwsCommandAllowed('DeleteMessageCommand', { QueueUrl: 'q', ReceiptHandle: 'r' })).toThrow(
      GuardRefusal,
    );
    expect(() => assertAwsCommandAllowed('DeleteMessageCommand', { ReceiptHandle: 'r' }, { release: true })).toThrow(
      GuardRefusal,
    );
    expect(() =>
      assertAwsCommandAllowed('DeleteMessageCommand', { QueueUrl: 'q', ReceiptHandle: 'r' }, { queueConsumer: true }),
    ).not.toThrow();
    for (const name of [
      'DeleteMessageBatchCommand',
      'DeleteQueueCommand',
      'PurgeQueueCommand',
      'DeleteObjectCommand',
      'TerminateInstancesCommand',
    ])
      expect(() => assertAwsCommandAllowed(name, {}, { queueConsumer: true }), name).toThrow(GuardRefusal);
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
          // The one exception: the watch daemon's queue client removes a handled message (guard mode queueConsumer).
          const queueDelete = file.endsWith(join('src', 'watch', 'client.ts')) && /\bDeleteMessageCommand\b/.test(line);
          const rest = queueDelete ? line.replace(/\bDeleteMessageCommand\b/g, '') : line;
          if (pattern.test(rest) && !/^\s*(\/\/|\*)/.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });

  it("the only Detach/Remove command in src/ or providers/ is the IAM release client's DetachRolePolicy", () => {
    const offenders: string[] = [];
    for (const file of [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'providers'))]) {
      if (file.endsWith('guard.ts')) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const hit = /\b(Detach|Remove)[A-Za-z]*Command\b/.exec(line);
          if (hit && !(file.endsWith('providers/iam/client.ts') && hit[0] === 'DetachRolePolicyCommand'))
            offenders.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
