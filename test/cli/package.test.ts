/**
 * The package as a responder installs it: `npm pack`, installed into an empty folder, runs
 * `providers` (absolute installed policy paths), `drill` (finding the Kubernetes servers from the
 * installed package) and a capture against moto; the library prints nothing of its own.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { seedAws } from '../../src/drill/client.js';
import { motoEnv, testIncident } from '../support/aws.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let installed: string;
let bin: string;

const evidence = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  run(process.execPath, [bin, ...args], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hf-pkg-'));
  // --ignore-scripts: pack the dist the test run built, without rebuilding under other tests' feet.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: REPO,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  const paths = packed!.files.map((f) => f.path);
  // Maps carry their sources inline; no test files, no TypeScript sources needed.
  expect(paths.filter((p) => p.endsWith('.map')).length).toBeGreaterThan(0);
  expect(paths).toContain('scripts/build-kube.sh');
  expect(paths.filter((p) => p.startsWith('test/'))).toEqual([]);
  // The drill's emulators ship; the tests' fault proxy and kube binder do not (docs/testing.md).
  expect(paths).toContain('dist/src/emulators/moto.js');
  expect(paths.filter((p) => /emulators\/(fault-proxy|kube-binder)\./.test(p))).toEqual([]);
  writeFileSync(join(dir, 'package.json'), '{"name":"responder-laptop","private":true}\n');
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed!.filename)], {
    cwd: dir,
    maxBuffer: 64 * 1024 * 1024,
  });
  installed = join(dir, 'node_modules', 'holdfast');
  bin = join(installed, 'dist', 'src', 'cli', 'main.js');
}, 600_000);

describe('the installed package', () => {
  it('source maps carry their sources', () => {
    const map = JSON.parse(readFileSync(join(installed, 'dist/src/cli/main.js.map'), 'utf8')) as {
      sourcesContent?: string[];
    };
    expect(map.sourcesContent?.[0]).toContain('evidence');
  });

  it('providers lists every policy with its absolute installed path; --policy prints one', async () => {
    const res = await evidence(['providers', '--json']);
    expect(res.code).toBe(0);
    const policies = res.stdout
      .trim()
      .split('\n')
      .flatMap((l) => (JSON.parse(l) as { policies: string[] }).policies);
    const shipped = ['aws', 'kubernetes'].flatMap((d) =>
      readdirSync(join(installed, 'policies', d)).map((f) => join(installed, 'policies', d, f)),
    );
    expect(shipped).toEqual(expect.arrayContaining([join(installed, 'policies/aws/s3-store.json')]));
    expect(policies.sort()).toEqual(shipped.sort());
    for (const p of policies) expect(existsSync(p), p).toBe(true);
    const ec2 = await evidence(['providers', '--policy', 'ec2']);
    expect(JSON.parse(ec2.stdout)).toEqual(JSON.parse(readFileSync(join(installed, 'policies/aws/ec2.json'), 'utf8')));
  });

  it('a capture against moto; the library itself prints nothing and turns the SDK notice into an event', async () => {
    const seeded = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    const incident = testIncident('PKG');
    const env = motoEnv({ HOLDFAST_STATE_DIR: join(dir, 'state') });
    const cap = await evidence(
      ['capture', '--incident', incident, '--instance', seeded.instanceId, '--forensic-cidr', '198.51.100.7/32'],
      env,
    );
    expect(cap.stderr).toContain('capture complete');
    expect(cap.code).toBe(0);
    expect(cap.stderr).toContain(`evidence store: ${join(dir, 'evidence-store')} (the default`);
    const verify = await evidence(['verify', '--incident', incident], env);
    expect(verify.code).toBe(0);
    // The manifest names the dependency versions actually installed (hoisted beside holdfast).
    const journal = readFileSync(join(dir, 'state', incident, 'journal.ndjson'), 'utf8');
    const started = JSON.parse(journal.split('\n')[0]!) as { tool: { dependencies: Record<string, string> } };
    expect(Object.values(started.tool.dependencies)).not.toContain('unknown');

    // The library, called by a program of the responder's own, without the CLI's settings.
    const libEnv = { ...env };
    delete libEnv.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const script = join(dir, 'bot.mjs');
    // Its own instance: the CLI's incident holds the first one, and one incident per target refuses a second.
    const other = await seedAws(inject('motoEndpoint'), Math.random().toString(16).slice(2, 8));
    writeFileSync(
      script,
      `import { planCapture, executePlan } from 'holdfast';
const progress = [];
const plan = await planCapture({ incident: ${JSON.stringify(testIncident('LIB'))}, store: 'lib-store', forensicCidrs: ['198.51.100.7/32'], targets: { ec2: { instances: [${JSON.stringify(other.instanceId)}] } } }, { onProgress: (p) => progress.push(p) });
const outcome = await executePlan(plan, { onProgress: (p) => progress.push(p), dryRun: true });
process.stdout.write(JSON.stringify({ status: outcome.status, warnings: progress.filter((p) => p.warning).map((p) => p.warning), waits: progress.filter((p) => p.waitingOn).map((p) => p.waitingOn) }));
`,
    );
    const lib = await run(process.execPath, [script], { cwd: dir, env: libEnv });
    expect(lib.stderr).toBe('');
    const report = JSON.parse(lib.stdout) as { status: string; warnings: string[]; waits: string[] };
    expect(report.status).toBe('planned');
    expect(report.waits).toEqual(expect.arrayContaining(['AWS credential lookup (who am I)']));
    if (Number(process.versions.node.split('.')[0]) < 22) expect(report.warnings[0]).toMatch(/need Node 22/);
  });

  it(
    'drill --with-kubernetes runs from the installed package and finds the Kubernetes servers',
    { timeout: 600_000 },
    async () => {
      const env = { ...process.env };
      delete env.AWS_ENDPOINT_URL;
      const res = await evidence(['drill', '--with-kubernetes'], env);
      expect(res.stderr).toContain('drill passed');
      expect(res.code).toBe(0);
      expect(res.stderr).not.toContain('skipped kubernetes');
      expect(res.stderr).toMatch(/\[HIGH\] IR-DRILL-[0-9a-f]+ — released/);
    },
  );
});
