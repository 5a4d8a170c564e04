/** `evidence providers` names every shipped policy file by absolute path and prints one on request. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { CLI, runCli } from '../support/cli.js';

/** stdout of a command that prints a whole document (runCli reads stdout as NDJSON). */
const document = (args: string[]) => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

const POLICIES = fileURLToPath(new URL('../../policies/', import.meta.url));

describe('providers and policies', () => {
  it('lists every policy file under policies/, each with an absolute path that exists', async () => {
    const res = await runCli(['providers', '--json']);
    expect(res.code).toBe(0);
    const listed = res.lines.flatMap((l) => l.policies as string[]);
    for (const path of listed) {
      expect(isAbsolute(path), path).toBe(true);
      expect(existsSync(path), path).toBe(true);
    }
    const shipped = ['aws', 'kubernetes'].flatMap((d) =>
      readdirSync(join(POLICIES, d)).map((f) => join(POLICIES, d, f)),
    );
    expect(shipped.length).toBeGreaterThanOrEqual(6);
    expect(listed.sort()).toEqual(shipped.sort());
    expect(res.lines.map((l) => l.id)).toEqual(expect.arrayContaining(['s3-store', 'kms-signer']));
  });

  it('--policy prints one policy as shipped; an unknown name is a short bad-input error', async () => {
    expect(JSON.parse(document(['providers', '--policy', 'ec2']))).toEqual(
      JSON.parse(readFileSync(join(POLICIES, 'aws/ec2.json'), 'utf8')),
    );
    expect(JSON.parse(document(['providers', '--policy', 's3-store']))).toEqual(
      JSON.parse(readFileSync(join(POLICIES, 'aws/s3-store.json'), 'utf8')),
    );
    const bad = await runCli(['providers', '--policy', 'ec3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/one of: ec2, rds, .*s3-store.*kms-signer/);
  });
});
