import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli, STREAM_PLUGIN } from '../support/cli.js';

const env = () => motoEnv({ HOLDFAST_PLUGIN: STREAM_PLUGIN });

describe('status and providers', () => {
  it('status names failed and pending steps from the journal', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-status-'));
    const incident = testIncident('STAT');
    const cap = await runCli(
      [
        'capture',
        '--incident',
        incident,
        '--test-stream',
        'ok',
        '--test-stream',
        'bad',
        '--test-fail',
        'bad',
        '--store',
        'es',
      ],
      { cwd, env: env() },
    );
    expect(cap.code).toBe(4);
    const res = await runCli(['status', '--incident', incident, '--json'], { cwd, env: env() });
    expect(res.code).toBe(0);
    const status = res.lines[0] as {
      counts: Record<string, number>;
      steps: { id: string; status: string }[];
      journalIntact: boolean;
      sealed: { status: string };
    };
    expect(status.journalIntact).toBe(true);
    expect(status.sealed.status).toBe('partial');
    expect(status.counts).toMatchObject({ done: 4, failed: 1, skipped: 1 });
    expect(status.steps.find((s) => s.id === 'teststream:collect/bad')!.status).toBe('failed');
    const human = await runCli(['status', '--incident', incident], { cwd, env: env() });
    expect(human.stderr).toContain('FAILED teststream:collect/bad');
    const elsewhere = await runCli(
      ['status', '--incident', incident, '--sitrep', '--state-dir', 'empty', '--store', 'es'],
      { cwd, env: env() },
    );
    expect(elsewhere.code).toBe(0);
    expect(elsewhere.stdout).toContain(`${incident} — investigating`);
    expect(elsewhere.stdout).toContain('### Failed\n- stream bad: generator died mid-stream');
    const missing = await runCli(['status', '--incident', 'IR-NONE-1'], { cwd, env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no journal');
  });

  it('status without --incident lists every incident journaled here', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-status-all-'));
    const [contained, waiting] = [testIncident('ALL-A'), testIncident('ALL-B')];
    expect(
      (await runCli(['capture', '--incident', contained, '--test-stream', 'a', '--store', 'es'], { cwd, env: env() }))
        .code,
    ).toBe(0);
    expect(
      (
        await runCli(['capture', '--incident', waiting, '--test-stream', 'a', '--severity', 'low', '--store', 'es'], {
          cwd,
          env: env(),
        })
      ).code,
    ).toBe(0);
    const list = await runCli(['status', '--json'], { cwd, env: env() });
    expect(list.code).toBe(0);
    expect(list.lines.map((l) => [l.incident, l.status]).sort()).toEqual(
      [
        [contained, 'contained'],
        [waiting, 'confirmed'],
      ].sort(),
    );
    const human = await runCli(['status'], { cwd, env: env() });
    expect(human.stderr).toMatch(new RegExp(`${waiting}  confirmed, sealed awaiting-approval — 1 waiting`));
    const none = await runCli(['status'], { cwd: mkdtempSync(join(tmpdir(), 'hf-status-none-')), env: env() });
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('no incidents journaled');
  });

  it('providers lists each provider with its flags, policies and an example', async () => {
    const res = await runCli(['providers', '--json'], { env: env() });
    expect(res.code).toBe(0);
    const test = res.lines.find((l) => l.id === 'teststream') as { flags: { flags: string }[]; example: string };
    expect(test.flags.map((f) => f.flags)).toContain('--test-stream <name>');
    expect(test.example).toContain('evidence capture');
  });
});
