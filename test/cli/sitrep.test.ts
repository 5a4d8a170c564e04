/** Sitreps, the retrospective timeline, webhooks and the custody log, through the CLI. */
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/emulators/moto.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli, STREAM_PLUGIN } from '../support/cli.js';

const env = () => motoEnv({ HOLDFAST_PLUGIN: STREAM_PLUGIN });

async function webhookServer(status = 200) {
  const received: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((r) => server.close(r)) };
}

describe('sitrep, timeline, webhook, custody', () => {
  it('posts each phase change and the final sitrep; the manifest carries the timeline', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-sitrep-'));
    const incident = testIncident('SIT');
    const hook = await webhookServer();
    // The URL comes from the environment: chat webhook URLs carry a token and argv is visible to all.
    const res = await runCli(
      [
        'capture',
        '--incident',
        incident,
        '--test-stream',
        'a',
        '--test-stream',
        'b',
        '--store',
        'es',
        '--notify-webhook',
        'env:SITREP_HOOK',
        '--json',
      ],
      { cwd, env: { ...env(), SITREP_HOOK: hook.url } },
    );
    expect(res.code).toBe(0);
    // Release tells the same channel that containment was lifted.
    const release = await runCli(
      ['release', '--incident', incident, '--approve', '--notify-webhook', 'env:SITREP_HOOK'],
      { cwd, env: { ...env(), SITREP_HOOK: hook.url } },
    );
    await hook.close();
    expect(release.code).toBe(0);
    const released = hook.received.pop() as { type: string; restored: number; sitrep: { status: string } };
    expect(released).toMatchObject({ type: 'release', restored: 2, sitrep: { status: 'released' } });
    const types = hook.received.map((r) => `${r.type}${r.phase ? `:${r.phase}` : ''}`);
    expect(types[0]).toBe('capture.started');
    for (const phase of ['preserve', 'collect', 'contain']) {
      expect(types).toContain(`phase.started:${phase}`);
      expect(types).toContain(`phase.finished:${phase}`);
    }
    const final = hook.received.at(-1) as { type: string; sitrep: { status: string }; markdown: string };
    expect(final.type).toBe('sitrep');
    expect(final.sitrep.status).toBe('contained');
    expect(final.markdown).toContain('### Contained');

    const manifest = (
      res.lines.at(-1) as {
        manifest: { timeline: { timeToContainmentMs: number; containment: unknown[]; phases: { phase: string }[] } };
      }
    ).manifest;
    expect(manifest.timeline.containment).toHaveLength(2);
    expect(manifest.timeline.timeToContainmentMs).toBeGreaterThanOrEqual(0);
    expect(manifest.timeline.phases.map((p) => p.phase)).toEqual(['preserve', 'collect', 'contain']);
  });

  it('a failing webhook never fails the capture', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-sitrep-'));
    const deadPort = await freePort();
    const res = await runCli(
      [
        'capture',
        '--incident',
        testIncident('HOOK'),
        '--test-stream',
        'a',
        '--store',
        'es',
        '--notify-webhook',
        `http://127.0.0.1:${deadPort}/x`,
      ],
      { cwd, env: env() },
    );
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/webhook posts failed \(the capture is not affected\)/);
  });

  it('status --sitrep gives Markdown for chat and data with --json, saying what waits for approval', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-sitrep-'));
    const incident = testIncident('LOWSIT');
    expect(
      (
        await runCli(['capture', '--incident', incident, '--test-stream', 'a', '--severity', 'low', '--store', 'es'], {
          cwd,
          env: env(),
        })
      ).code,
    ).toBe(0);
    const md = await runCli(['status', '--incident', incident, '--sitrep'], { cwd, env: env() });
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(new RegExp(`^## \\[LOW\\] ${incident} — confirmed`));
    expect(md.stdout).toContain('### Waiting for approval\n- isolate a');
    expect(md.stdout).toContain('--approve-containment');
    const data = await runCli(['status', '--incident', incident, '--sitrep', '--json'], { cwd, env: env() });
    expect(data.lines[0]).toMatchObject({
      type: 'sitrep',
      status: 'confirmed',
      severity: 'low',
      waiting: ['isolate a'],
    });
  });

  it('verify and release append custody-log entries to the store', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hf-custody-'));
    const incident = testIncident('CUST');
    expect(
      (await runCli(['capture', '--incident', incident, '--test-stream', 'a', '--store', 'es'], { cwd, env: env() }))
        .code,
    ).toBe(0);
    // The store the capture recorded is the live store: verify appends to it (a folder named with
    // --store is an examiner's copy, written only with --record-custody: test/cli/verify-outcomes.test.ts).
    expect((await runCli(['verify', '--incident', incident], { cwd, env: env() })).code).toBe(0);
    expect((await runCli(['release', '--incident', incident, '--approve'], { cwd, env: env() })).code).toBe(0);
    const entries = readdirSync(join(cwd, 'es', incident, 'custody')).sort();
    expect(entries.map((e) => e.split('-')[1]).sort()).toEqual(['release', 'verify']);
    const entry = JSON.parse(
      readFileSync(
        join(
          cwd,
          'es',
          incident,
          'custody',
          entries.find((e) => e.includes('verify'))!,
        ),
        'utf8',
      ),
    );
    expect(entry).toMatchObject({ schema: 'holdfast/custody@1', action: 'verify', detail: { ok: true } });
    expect(entry.actor.osUser).toBeTruthy();
  });
});
