/** What verify writes, and its three outcomes: ok, tampered (exit 5), could not check (exit 4, never 5). */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli, STREAM_PLUGIN } from '../support/cli.js';

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .sort();

describe('verify', () => {
  it('--store DIR writes nothing into the folder unless --record-custody', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-ro-'));
    const incident = testIncident('RO');
    const env = motoEnv({ HOLDFAST_PLUGIN: STREAM_PLUGIN });
    const capture = await runCli(['capture', '--incident', incident, '--test-stream', 'a', '--store', 'es'], {
      cwd,
      env,
    });
    expect(capture.code, capture.stderr).toBe(0);
    const before = filesUnder(join(cwd, 'es'));
    const plain = await runCli(['verify', '--incident', incident, '--store', 'es'], { cwd, env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(filesUnder(join(cwd, 'es'))).toEqual(before);
    const asked = await runCli(['verify', '--incident', incident, '--store', 'es', '--record-custody'], { cwd, env });
    expect(asked.code, asked.stderr).toBe(0);
    const added = filesUnder(join(cwd, 'es')).filter((f) => !before.includes(f));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/custody\/000001-verify-/);
  });
});
