/** Predictable places: the journal in the user's state dir, the store recorded per incident, absolute paths. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli, STREAM_PLUGIN } from '../support/cli.js';

describe('places', () => {
  it('a capture without --store names its absolute default store; status, verify and release find it from another directory', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hf-places-'));
    const here = join(root, 'here');
    const elsewhere = join(root, 'elsewhere');
    const xdg = join(root, 'xdg');
    for (const d of [here, elsewhere]) mkdirSync(d);
    const env = motoEnv({ HOLDFAST_PLUGIN: STREAM_PLUGIN, XDG_STATE_HOME: xdg });
    const incident = testIncident('PLACE');
    const cap = await runCli(['capture', '--incident', incident, '--test-stream', 'a'], { cwd: here, env });
    expect(cap.code).toBe(0);
    const store = join(here, 'evidence-store');
    expect(cap.stderr).toContain(`evidence store: ${store} (the default, as no --store was given)`);
    const journal = join(xdg, 'holdfast', incident, 'journal.ndjson');
    expect(cap.stderr).toContain(`journal: ${journal}`);
    expect(cap.stderr).toMatch(new RegExp(`manifest: ${store}/${incident}/\\S+\\.json`));
    expect(existsSync(journal)).toBe(true);
    expect(existsSync(join(here, '.holdfast'))).toBe(false);
    expect(JSON.parse(readFileSync(join(xdg, 'holdfast', incident, 'store.json'), 'utf8')).store).toEqual({
      kind: 'fs',
      dir: store,
    });

    const status = await runCli(['status', '--incident', incident], { cwd: elsewhere, env });
    expect(status.code).toBe(0);
    expect(status.stderr).toContain(`${incident}: sealed (complete)`);
    const verify = await runCli(['verify', '--incident', incident], { cwd: elsewhere, env });
    expect(verify.stderr).toContain(`verify ${incident} in file://${store}`);
    expect(verify.code).toBe(0);
    const release = await runCli(['release', '--incident', incident, '--approve'], { cwd: elsewhere, env });
    expect(release.stderr).toContain('1 restored');
    expect(release.code).toBe(0);
    expect(existsSync(join(elsewhere, '.holdfast'))).toBe(false);
    expect(existsSync(join(elsewhere, 'evidence-store'))).toBe(false);
  });

  it('an existing ./.holdfast from older versions is still used, and named', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-legacy-'));
    mkdirSync(join(cwd, '.holdfast'));
    const env = motoEnv({ HOLDFAST_PLUGIN: STREAM_PLUGIN, XDG_STATE_HOME: join(cwd, 'xdg') });
    const incident = testIncident('LEGACY');
    const cap = await runCli(['capture', '--incident', incident, '--test-stream', 'a', '--store', 'es'], {
      cwd,
      env,
    });
    expect(cap.code).toBe(0);
    expect(cap.stderr).toContain(`journal folder ${join(cwd, '.holdfast')} found here`);
    expect(existsSync(join(cwd, '.holdfast', incident, 'journal.ndjson'))).toBe(true);
    expect(existsSync(join(cwd, 'xdg'))).toBe(false);
  });
});
