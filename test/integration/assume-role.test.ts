/** --assume-role: providers act through the assumed role; the store and the operator stay the caller's. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { providerClients } from '../../src/aws/assume-role.js';
import { seedAws } from '../../src/drill/client.js';
import { parseCase } from '../../src/engine/case.js';
import { builtinProviders } from '../../src/engine/registry.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';

const ROLE = 'arn:aws:iam::123456789012:role/holdfast-forensics';

describe('--assume-role', () => {
  it('gives providers credentials from STS AssumeRole (moto), not the caller keys', async () => {
    const kase = parseCase(
      {
        incident: 'IR-ROLE-1',
        assumeRole: ROLE,
        store: '/tmp/x',
        targets: { ec2: { instances: ['i-0123456789abcdef0'] } },
      },
      builtinProviders,
    );
    const env = motoEnv({ AWS_ACCESS_KEY_ID: 'caller-key', AWS_SECRET_ACCESS_KEY: 'caller-secret' });
    const clients = await providerClients(kase, env, {});
    const credentials = await (
      clients['aws:credentials'] as () => Promise<{ accessKeyId: string; sessionToken?: string }>
    )();
    expect(credentials.accessKeyId).not.toBe('caller-key');
    expect(credentials.sessionToken).toBeTruthy();
    expect(await providerClients({ ...kase, assumeRole: undefined } as never, env, {})).toEqual({});
  });

  it('captures through the CLI with the role and records it beside the caller identity', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const cwd = mkdtempSync(join(tmpdir(), 'hf-role-'));
    const res = await runCli(
      [
        'capture',
        '--incident',
        testIncident('ROLE'),
        '--instance',
        seeded.instanceId,
        '--assume-role',
        ROLE,
        '--no-contain',
        '--store',
        'es',
        '--json',
      ],
      { cwd, env: motoEnv() },
    );
    expect(res.stderr).toContain('capture complete');
    const manifest = (res.lines.at(-1) as { manifest: { operator: { assumedRole: string; callerArn: string } } })
      .manifest;
    expect(manifest.operator.assumedRole).toBe(ROLE);
    expect(manifest.operator.callerArn).toMatch(/^arn:aws:/);
  });
});
