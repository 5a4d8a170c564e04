/**
 * Sitreps, webhooks, the retrospective report and the CASE export of one real EC2 incident captured
 * through the CLI against moto: roles journaled, an IC hand-over, release, a false alarm; verify
 * still passes after each journaled line.
 */
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { seedAws, type SeededAws } from '../../src/drill/client.js';
import { motoPython } from '../../src/emulators/moto.js';
import { motoEnv, testIncident } from '../support/aws.js';
import { runCli } from '../support/cli.js';
import { chromiumPath, openInBrowser, screenshot } from '../support/browser.js';
import { caseValidate } from '../support/case-utils.js';

const execFileAsync = promisify(execFile);
const CONFORMANCE = fileURLToPath(new URL('../conformance/verify_evidence.py', import.meta.url));
const VALIDATE = fileURLToPath(new URL('../conformance/validate_schemas.py', import.meta.url));
const SCHEMAS = fileURLToPath(new URL('../../schemas', import.meta.url));
const FORENSIC = '198.51.100.7/32';
/** Kept after the run for people to look at (gitignored). */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
let seeded: SeededAws;
let cwd: string;
let incident: string;

/** A local webhook receiver: every body posted, parsed. */
async function receiver() {
  const received: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(JSON.parse(body) as Record<string, unknown>);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/x`,
    received,
    close: () => new Promise((r) => server.close(r)),
  };
}

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd, env: motoEnv(env) });

beforeAll(async () => {
  seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
  cwd = mkdtempSync(join(tmpdir(), 'hf-reports-'));
  incident = testIncident('REP');
  const hook = await receiver();
  const res = await cli(
    [
      'capture',
      '--incident',
      incident,
      '--instance',
      seeded.instanceId,
      '--forensic-cidr',
      FORENSIC,
      '--commander',
      'Ada Lovelace',
      '--responder',
      'Grace Hopper',
      '--store',
      'es',
      '--notify-webhook',
      'env:HOOK',
      '--notify-format',
      'slack',
    ],
    { HOOK: hook.url },
  );
  await hook.close();
  expect(res.code, res.stderr).toBe(0);
  // The capture ends with the same sitrep `evidence sitrep --format text` prints.
  expect(res.stderr).toMatch(new RegExp(`\\[HIGH\\] ${incident} — contained`));
  expect(res.stderr).toMatch(/Incident Commander: +Ada Lovelace/);
  // Every post is Slack-shaped: text plus blocks; the last is the sitrep.
  expect(hook.received.length).toBeGreaterThan(3);
  for (const body of hook.received) {
    expect(typeof body.text).toBe('string');
    expect(Array.isArray(body.blocks)).toBe(true);
  }
  const final = hook.received.at(-1) as { text: string; blocks: { type: string }[] };
  expect(final.blocks[0]).toMatchObject({ type: 'header' });
  expect(final.text).toContain('*Incident Commander:* Ada Lovelace');
  expect(final.text).not.toMatch(/^#|\*\*/m);
}, 120_000);

describe('evidence sitrep on a captured EC2 incident', () => {
  it("says who holds the roles and what is contained, in the responder's words, in every format", async () => {
    const slack = await cli(['sitrep', '--incident', incident, '--format', 'slack']);
    expect(slack.code, slack.stderr).toBe(0);
    // Slack mrkdwn: bold with single stars, bullets, no Markdown headings.
    expect(slack.stdout).toMatch(new RegExp(`^\\*\\[HIGH\\] ${incident} — contained`));
    expect(slack.stdout).not.toMatch(/^#/m);
    expect(slack.stdout).not.toContain('**');
    expect(slack.stdout).toContain('*Incident Commander:* Ada Lovelace');
    expect(slack.stdout).toContain('*Responders:* Grace Hopper');
    // The host with its Name tag, its interfaces, and who may still reach it.
    const name = `web-`;
    expect(slack.stdout).toMatch(
      new RegExp(
        `• ${seeded.instanceId} \\(${name}[0-9a-f]+\\): cut off on its 3 interfaces eni-[0-9a-f]+, eni-[0-9a-f]+, eni-[0-9a-f]+; only ${FORENSIC} may still reach it`,
      ),
    );
    expect(slack.stdout).toContain(`*Still reachable from*\n• ${FORENSIC} on every port`);

    const md = await cli(['sitrep', '--incident', incident, '--format', 'markdown']);
    expect(md.stdout).toMatch(new RegExp(`^## \\[HIGH\\] ${incident} — contained`));
    expect(md.stdout).toContain('**Incident Commander:** Ada Lovelace');
    expect(md.stdout).toContain('### Contained');

    const text = await cli(['sitrep', '--incident', incident, '--format', 'text']);
    expect(text.stdout).not.toMatch(/[*#`]{2}/);
    expect(text.stdout).toMatch(/Time to containment: +\d+\.\d s/);

    const json = await cli(['sitrep', '--incident', incident, '--format', 'json']);
    const sitrep = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(sitrep).toMatchObject({
      type: 'sitrep',
      status: 'contained',
      commander: 'Ada Lovelace',
      responders: ['Grace Hopper'],
      forensicAccess: [`${FORENSIC} on every port`],
    });
    // Limitations: each folded to one line, the full text kept beside it.
    const lines = sitrep.limitationLines as string[];
    expect(lines.length).toBe((sitrep.limitations as string[]).length);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(110);

    // The Slack message body, as a bot would post it.
    const body = await cli(['sitrep', '--incident', incident, '--format', 'slack', '--json']);
    expect(JSON.parse(body.stdout)).toMatchObject({ text: expect.any(String), blocks: expect.any(Array) });
  });

  it('journals an IC hand-over and seals it: the hand-over sitrep names both, verify still passes', async () => {
    const hook = await receiver();
    const res = await cli(
      [
        'sitrep',
        '--incident',
        incident,
        '--take-over-ic',
        'Katherine Johnson',
        '--format',
        'text',
        '--notify-webhook',
        'env:HOOK',
      ],
      { HOOK: hook.url },
    );
    await hook.close();
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('IC hand-over Ada Lovelace → Katherine Johnson');
    expect(res.stdout).toContain('Incident Commander duties pass from Ada Lovelace to Katherine Johnson');
    // Not a Slack URL and no --notify-format: the JSON body.
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]).toMatchObject({
      type: 'sitrep',
      sitrep: { commander: 'Katherine Johnson', kind: 'hand-over' },
    });
    // Again: nothing new to journal.
    const again = await cli(['sitrep', '--incident', incident, '--take-over-ic', 'Katherine Johnson']);
    expect(again.stderr).toContain('nothing new to journal');
    const verify = await cli(['verify', '--incident', incident, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('refuses a name that is not one, naming the flag, before journaling anything', async () => {
    const res = await cli(['sitrep', '--incident', incident, '--take-over-ic', 'Eve\u001b[2J']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--take-over-ic.*control characters/);
  });

  it('release names who released; the sitrep shows what was contained and then released; a false alarm ends it', async () => {
    const release = await cli(['release', '--incident', incident, '--approve', '--responder', 'Alan Turing']);
    expect(release.code, release.stderr).toBe(0);
    expect(release.stderr).toMatch(new RegExp(`\\[HIGH\\] ${incident} — released`));
    expect(release.stderr).toMatch(
      new RegExp(`Contained, then released:\\n(  - .*\\n)*  - ${seeded.instanceId} \\(web-`),
    );
    expect(release.stderr).toMatch(/Responders: +Grace Hopper, Alan Turing/);
    const final = await cli(['sitrep', '--incident', incident, '--false-alarm', '--format', 'markdown']);
    expect(final.code, final.stderr).toBe(0);
    expect(final.stdout).toContain(`[HIGH] ${incident} — FINAL — false alarm`);
    expect(final.stdout).toContain('**This incident was a false alarm.** This is the final sitrep.');
    expect(final.stdout).toContain('**Status:** false-alarm');
    const verify = await cli(['verify', '--incident', incident]);
    expect(verify.code, verify.stderr).toBe(0);
    // The independent Python verifier accepts the roles and false-alarm lines and their seals; the schemas take them.
    await execFileAsync(motoPython(), [CONFORMANCE, join(cwd, 'es'), incident]);
    const schemas = await execFileAsync(motoPython(), [VALIDATE, SCHEMAS, join(cwd, 'es'), incident]);
    expect(schemas.stdout).toMatch(/journal-event: \d+ valid; manifest: 1 valid; release-record: 3 valid/);
    const journal = readFileSync(join(cwd, '.holdfast', incident, 'journal.ndjson'), 'utf8');
    const types = journal
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types.filter((t) => t === 'roles.recorded')).toHaveLength(2);
    expect(types.filter((t) => t === 'incident.false-alarm')).toHaveLength(1);
  });

  it('report: one self-contained HTML file a real browser renders with no console errors, one timeline bar per target', async () => {
    const html = join(cwd, 'report.html');
    const res = await cli(['report', '--incident', incident, '--out', html]);
    expect(res.code, res.stderr).toBe(0);
    const text = readFileSync(html, 'utf8');
    // Self-contained: no script at all, nothing fetched (the page's CSP would refuse it and the console say so).
    expect(text).not.toMatch(/<script|<link|@import|url\(|src="http/i);
    const journal = readFileSync(join(cwd, '.holdfast', incident, 'journal.ndjson'), 'utf8');
    const targets = new Set(
      journal
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => {
          const e = JSON.parse(l) as { type: string; plannedSteps?: { target: string }[] };
          return e.type === 'capture.started' ? (e.plannedSteps ?? []).map((p) => p.target) : [];
        }),
    );
    if (!chromiumPath()) {
      // Installed by test/support/prepare-servers.sh; CI must have it.
      expect(process.env.CI, 'chromium is missing: bash test/support/install-chromium.sh').not.toBe('true');
      console.warn('chromium is not installed: the report was not opened in a browser');
      return;
    }
    const page = await openInBrowser(html);
    expect(page.console).toEqual([]);
    const bars = [...page.dom.matchAll(/<g class="target-bar" data-target="([^"]+)"/g)].map((m) => m[1]);
    expect(bars.sort()).toEqual([...targets].sort());
    // The instance's row has all four bars: it was preserved, collected, contained and released.
    const row = page.dom.slice(page.dom.indexOf(`data-target="ec2:${seeded.instanceId}"`)).split('</g>')[0]!;
    for (const segment of ['preserve', 'collect', 'contain', 'release']) expect(row).toContain(`segment ${segment}`);
    expect(page.dom).toContain('Katherine Johnson');
    expect(page.dom).toMatch(/Verification<\/span><b class="ok">passed/);
    expect(page.dom).toMatch(/[0-9a-f]{64}/);
    mkdirSync(ARTIFACTS, { recursive: true });
    const png = join(ARTIFACTS, 'retrospective-report.png');
    await screenshot(html, png);
    expect(statSync(png).size).toBeGreaterThan(10_000);
    // The detector is not blind: a page that fetches gets a console line.
    const fetching = join(cwd, 'fetching.html');
    writeFileSync(fetching, text.replace('</main>', '<img src="http://127.0.0.1:9/x.png"></main>'));
    expect((await openInBrowser(fetching)).console.length).toBeGreaterThan(0);

    const md = await cli(['report', '--incident', incident, '--format', 'markdown', '--out', '-', '--offline']);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(new RegExp(`^# ${incident} — retrospective report`));
    expect(md.stdout).toContain('## Artifacts');
    expect(md.stdout).toContain('| target | preserve | collect | contain | release | time to containment |');
  }, 120_000);

  it('export --format case: CASE 1.5 JSON-LD the community validator accepts; a broken export fails it', async () => {
    const file = join(cwd, 'case.jsonld');
    const res = await cli(['export', '--incident', incident, '--format', 'case', '--out', file]);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { '@graph': Record<string, unknown>[] };
    const ofType = (t: string) => doc['@graph'].filter((n) => n['@type'] === t);
    expect(ofType('case-investigation:Investigation')).toHaveLength(1);
    expect(ofType('uco-tool:Tool')[0]).toMatchObject({
      'uco-core:name': 'holdfast',
      'uco-tool:version': expect.any(String),
    });
    const manifest = JSON.parse(
      readFileSync(
        join(
          cwd,
          'es',
          incident,
          'manifest',
          readdirSync(join(cwd, 'es', incident, 'manifest')).find(
            (f) => f.endsWith('.json') && !f.endsWith('.sig.json'),
          )!,
        ),
        'utf8',
      ),
    ) as { artifacts: { sha256?: string }[]; steps: unknown[] };
    expect(ofType('case-investigation:ProvenanceRecord')).toHaveLength(manifest.artifacts.length);
    expect(ofType('case-investigation:InvestigativeAction')).toHaveLength(manifest.steps.length);
    const hashes =
      JSON.stringify(doc).match(/"uco-types:hashValue":\{"@type":"xsd:hexBinary","@value":"([0-9A-F]{64})"/g) ?? [];
    expect(hashes.length).toBe(manifest.artifacts.filter((a) => a.sha256).length);
    expect(
      ofType('uco-identity:Person')
        .map((p) => p['uco-core:name'])
        .sort(),
    ).toEqual(['Alan Turing', 'Grace Hopper', 'Katherine Johnson'].sort());
    const valid = await caseValidate(file);
    expect(valid.conforms, valid.report).toBe(true);

    // Broken: a hash that is not hex, and an action whose start time is not a time.
    const broken = JSON.stringify(doc)
      .replace(/("uco-types:hashValue":\{"@type":"xsd:hexBinary","@value":")[0-9A-F]{64}/, '$1not-a-hash')
      .replace(/("uco-action:startTime":\{"@type":"xsd:dateTime","@value":")[^"]+/, '$1yesterday');
    const brokenFile = join(cwd, 'broken.jsonld');
    writeFileSync(brokenFile, broken);
    const invalid = await caseValidate(brokenFile);
    expect(invalid.conforms).toBe(false);
    expect(invalid.report).toMatch(/Severity: sh:Violation/);
  }, 300_000);
});
