/**
 * A killed run reads as interrupted, not running: `status` (text, --json, the list, the sitrep) says
 * to run the same capture, and `status`/`verify` finish a seal a kill left half done, under the lock.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { checkJournalChain } from '../../src/evidence/journal.js';
import { startFaultProxy } from '../../src/emulators/fault-proxy.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli, startCli } from '../support/cli.js';
import { motoEc2, seedFleet } from '../support/fleet.js';

/** A pid that was this host's and is gone now: a holder provably dead. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('a killed capture', () => {
  it('reads as interrupted in status, --json, the list and the sitrep; the same capture resumes it', async () => {
    const moto = inject('motoEndpoint');
    const fleet = await seedFleet(motoEc2(moto), Math.random().toString(16).slice(2, 8), 1, 1);
    const proxy = await startFaultProxy(moto, { rules: [{ fault: 'hang', action: 'DescribeSnapshots' }] });
    const cwd = mkdtempSync(join(tmpdir(), 'hf-kill-'));
    const incident = testIncident('KILL');
    const args = [
      'capture',
      '--incident',
      incident,
      '--instance',
      fleet.instanceIds[0]!,
      '--no-contain',
      '--store',
      'es',
    ];
    try {
      const run = startCli(args, { cwd, env: motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint }) });
      const deadline = Date.now() + 60_000;
      while (!proxy.calls.some((c) => c.fault === 'hang') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(proxy.calls.some((c) => c.fault === 'hang')).toBe(true);
      run.child.kill('SIGKILL');
      expect((await run.done).code).toBe(137);
    } finally {
      await proxy.close();
    }
    const journal = join(cwd, '.holdfast', incident, 'journal.ndjson');
    expect(existsSync(`${journal}.lock`)).toBe(true); // the killed holder's lock stays
    const events = checkJournalChain(readFileSync(journal, 'utf8')).events;
    expect(events.some((e) => e.type === 'step.started')).toBe(true);

    const env = motoEnv();
    const text = await runCli(['status', '--incident', incident], { cwd, env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain('interrupted; run the same capture to resume');
    expect(text.stderr).toMatch(/INTERRUPTED ec2:snapshot\//);
    expect(text.stderr).not.toContain('RUNNING');
    expect(text.stderr).not.toMatch(/\d+ running/);

    const json = await runCli(['status', '--incident', incident, '--json'], { cwd, env });
    const status = json.lines.find((l) => l.type === 'status') as {
      run: { state: string; command: string; holder: { pid: number } };
      counts: Record<string, number>;
    };
    expect(status.run).toMatchObject({ state: 'interrupted', command: 'capture', holder: { pid: run0Pid(journal) } });
    expect(status.counts.running).toBe(0);
    expect(status.counts.interrupted).toBeGreaterThan(0);

    const list = await runCli(['status', '--json'], { cwd, env });
    expect(list.stderr).toContain(`${incident}  interrupted; run the same capture to resume`);
    expect(list.lines.find((l) => l.incident === incident)?.run).toMatchObject({ state: 'interrupted' });

    const sitrep = await runCli(['status', '--incident', incident, '--sitrep'], { cwd, env });
    expect(sitrep.stdout).toContain('(interrupted)');
    expect(sitrep.stdout).toMatch(/- interrupted; run the same capture to resume .*no process is running them/);
    expect(sitrep.stdout).not.toContain('finish the running capture');

    // Status changed nothing: the journal is as the kill left it, the lock still the dead holder's.
    expect(checkJournalChain(readFileSync(journal, 'utf8')).events).toHaveLength(events.length);
    const resumed = await runCli(args, { cwd, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = await runCli(['status', '--incident', incident, '--json'], { cwd, env });
    expect((after.lines.find((l) => l.type === 'status') as { run: { state: string } }).run.state).toBe('idle');
    expect(after.stderr).not.toContain('interrupted');
    expect(existsSync(`${journal}.lock`)).toBe(false);
  });

  it('killed while sealing: status and verify store the journal copy the seal names, under the lock', async () => {
    const moto = inject('motoEndpoint');
    const fleet = await seedFleet(motoEc2(moto), Math.random().toString(16).slice(2, 8), 1, 1);
    const cwd = mkdtempSync(join(tmpdir(), 'hf-kill-seal-'));
    const incident = testIncident('KSEAL');
    const env = motoEnv();
    const capture = await runCli(
      ['capture', '--incident', incident, '--instance', fleet.instanceIds[0]!, '--no-contain', '--store', 'es'],
      { cwd, env },
    );
    expect(capture.code, capture.stderr).toBe(0);
    const journal = join(cwd, '.holdfast', incident, 'journal.ndjson');
    const seal = checkJournalChain(readFileSync(journal, 'utf8')).events.at(-1)!;
    expect(seal.type).toBe('capture.sealed');
    const copy = join(cwd, 'es', seal.type === 'capture.sealed' ? seal.journalKey : '');
    // The state a SIGKILL between the seal line and the journal copy's upload leaves: no copy, a dead holder's lock.
    rmSync(copy);
    writeFileSync(`${journal}.lock`, JSON.stringify({ pid: deadPid(), host: hostname() }));

    const beforeVerify = await runCli(['verify', '--incident', incident, '--no-custody', '--offline'], { cwd, env });
    expect(beforeVerify.stderr).toContain('was stored now from the local journal');
    expect(beforeVerify.code, beforeVerify.stderr).toBe(0);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(journal, 'utf8'));
    expect(existsSync(`${journal}.lock`)).toBe(false);

    // status does the same.
    rmSync(copy);
    writeFileSync(`${journal}.lock`, JSON.stringify({ pid: deadPid(), host: hostname() }));
    const status = await runCli(['status', '--incident', incident, '--json'], { cwd, env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toContain(
      `the seal was interrupted before the journal copy ${seal.type === 'capture.sealed' ? seal.journalKey : ''}`,
    );
    expect((status.lines.find((l) => l.type === 'status') as { run: { state: string } }).run.state).toBe('idle');
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(journal, 'utf8'));
    expect(existsSync(`${journal}.lock`)).toBe(false);

    // A live holder is never raced: the copy stays missing and the run reads as running.
    rmSync(copy);
    writeFileSync(`${journal}.lock`, JSON.stringify({ pid: process.pid, host: hostname() }));
    const busy = await runCli(['status', '--incident', incident], { cwd, env });
    expect(busy.stderr).toContain(`RUNNING: capture in process ${process.pid}`);
    expect(existsSync(copy)).toBe(false);
    rmSync(`${journal}.lock`);
  });
});

/** The pid the killed capture wrote into its lock. */
function run0Pid(journal: string): number {
  return (JSON.parse(readFileSync(`${journal}.lock`, 'utf8')) as { pid: number }).pid;
}
