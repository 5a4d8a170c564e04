/**
 * The console screenshot: GetConsoleScreenshot with WakeUp=false, stored as a hashed JPEG beside the
 * console output, before containment. moto answers 500 for it, so the call goes through a stand-in
 * proxy that answers with a real JPEG; without the proxy the missing screenshot is a limitation.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { executePlan, planCapture, type CaptureEvent, type Provider } from '../../src/index.js';
import { motoPython } from '../../src/emulators/moto.js';
import { createEc2Clients } from '../../providers/ec2/client.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { clientDefaults, motoEnv, testIncident } from '../support/aws.js';
import { motoEc2, seedFleet } from '../support/fleet.js';
import { CONSOLE_JPEG, startStandInProxy, type StandInProxy } from '../support/stand-in-proxy.js';

const providers = [ec2Provider as unknown as Provider];
const CONFORMANCE = fileURLToPath(new URL('../conformance/', import.meta.url));
const SCHEMAS = fileURLToPath(new URL('../../schemas', import.meta.url));

/** Run a snippet of the Python conformance tools (the moto venv has jsonschema and cryptography). */
function python(args: string[]): string {
  return execFileSync(motoPython(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function clientsAt(endpoint: string) {
  return createEc2Clients({
    ...clientDefaults(),
    region: 'us-east-1',
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

async function capture(endpoint: string, instanceId: string, incident: string) {
  const dir = mkdtempSync(join(tmpdir(), 'hf-screen-'));
  const env = motoEnv({ AWS_ENDPOINT_URL: endpoint });
  const clients = { ec2: clientsAt(endpoint) };
  const plan = await planCapture(
    {
      incident,
      store: join(dir, 'es'),
      forensicCidrs: ['198.51.100.7/32'],
      targets: { ec2: { instances: [instanceId] } },
    },
    { providers, env, clients },
  );
  const events: CaptureEvent[] = [];
  const outcome = await executePlan(plan, { providers, env, clients, stateDir: dir, onEvent: (e) => events.push(e) });
  return { dir, plan, outcome, events };
}

describe('EC2 console screenshot', () => {
  let proxy: StandInProxy;
  beforeAll(async () => {
    proxy = await startStandInProxy(inject('motoEndpoint'));
  });
  afterAll(() => proxy.close());

  it('is a hashed JPEG beside the console output, taken with WakeUp=false before containment', async () => {
    const [instanceId] = (await seedFleet(motoEc2(inject('motoEndpoint')), 'shot', 1, 1)).instanceIds;
    const incident = testIncident('SHOT');
    const { dir, plan, outcome, events } = await capture(proxy.endpoint, instanceId!, incident);
    expect(outcome.status).toBe('complete');
    expect(plan.steps.find((s) => s.id === `ec2:describe/${instanceId}`)?.title).toContain('console screenshot');
    const shot = outcome.artifacts.find((a) => a.type === 'ec2-console-screenshot');
    expect(shot?.method).toEqual({ api: 'GetConsoleScreenshot', wakeUp: false });
    expect(shot?.source.instanceId).toBe(instanceId);
    const bytes = readFileSync(join(dir, 'es', String(shot!.location.key)));
    expect(bytes.equals(CONSOLE_JPEG)).toBe(true);
    expect(shot?.sha256).toBe(createHash('sha256').update(CONSOLE_JPEG).digest('hex'));
    expect(shot?.size).toBe(CONSOLE_JPEG.length);
    expect(outcome.artifacts.some((a) => a.type === 'ec2-console-output' && a.stepId === shot?.stepId)).toBe(true);
    // The only GetConsoleScreenshot calls: the capture's, never waking the screen.
    expect(proxy.screenshotRequests.filter((r) => r.InstanceId === instanceId)).toEqual([
      expect.objectContaining({ InstanceId: instanceId, WakeUp: 'false' }),
    ]);
    const seqOf = (match: (e: CaptureEvent) => boolean) => events.findIndex(match);
    const recorded = seqOf((e) => e.type === 'artifact.recorded' && e.artifact.id === shot?.id);
    const firstContainment = seqOf((e) => e.type === 'change.recorded' && e.change.reversible);
    expect(recorded).toBeGreaterThanOrEqual(0);
    expect(firstContainment).toBeGreaterThan(recorded);
    expect(outcome.manifest?.limitations.join('\n')).not.toMatch(/screenshot/);
    // The independent verifier re-hashes it and checks it is a JPEG recorded with WakeUp=false; the schemas accept it.
    python([join(CONFORMANCE, 'verify_evidence.py'), join(dir, 'es'), incident]);
    python([join(CONFORMANCE, 'validate_schemas.py'), SCHEMAS, join(dir, 'es'), incident]);
    const checks = python([
      '-c',
      `import sys; sys.path.insert(0, ${JSON.stringify(CONFORMANCE)}); import verify_evidence as v
shot = {"type": "ec2-console-screenshot", "method": {"api": "GetConsoleScreenshot", "wakeUp": False}}
print(v.check_content(shot, bytes.fromhex("ffd8ffdb"), bytes.fromhex("ffd9")))
print(v.check_content(shot, bytes.fromhex("89504e470d0a"), bytes.fromhex("6082")))
print(v.check_content(dict(shot, method={"api": "GetConsoleScreenshot", "wakeUp": True}), bytes.fromhex("ffd8ffdb"), bytes.fromhex("ffd9")))`,
    ]);
    expect(checks.trim().split('\n')).toEqual([
      'None',
      'screenshot is not a JPEG (no SOI/EOI markers)',
      'screenshot not recorded as taken with WakeUp=false',
    ]);
  });

  it('an instance whose screen cannot be read is a limitation, not a failure', async () => {
    const [instanceId] = (await seedFleet(motoEc2(inject('motoEndpoint')), 'noshot', 1, 1)).instanceIds;
    // Straight to moto, which answers GetConsoleScreenshot with 500.
    const { outcome } = await capture(inject('motoEndpoint'), instanceId!, testIncident('NOSHOT'));
    expect(outcome.status).toBe('complete');
    expect(outcome.artifacts.some((a) => a.type === 'ec2-console-screenshot')).toBe(false);
    // moto's 500 carries no error code: the SDK names it Error.
    expect(outcome.manifest?.limitations.filter((l) => l.includes('screenshot'))).toEqual([
      `console screenshot of ${instanceId} could not be taken: Error`,
    ]);
  });

  it('a dry run proves GetConsoleScreenshot with DryRun (allowed), and takes no screenshot', async () => {
    const [instanceId] = (await seedFleet(motoEc2(inject('motoEndpoint')), 'dryshot', 1, 1)).instanceIds;
    const dir = mkdtempSync(join(tmpdir(), 'hf-screen-dry-'));
    const env = motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint });
    const clients = { ec2: clientsAt(proxy.endpoint) };
    const plan = await planCapture(
      {
        incident: testIncident('DRYSHOT'),
        store: join(dir, 'es'),
        forensicCidrs: ['198.51.100.7/32'],
        targets: { ec2: { instances: [instanceId!] } },
      },
      { providers, env, clients },
    );
    const events: CaptureEvent[] = [];
    await executePlan(plan, { providers, env, clients, stateDir: dir, dryRun: true, onEvent: (e) => events.push(e) });
    const checks = events.flatMap((e) => (e.type === 'preflight.result' ? e.result.checks : []));
    expect(checks.filter((c) => c.action === 'ec2:GetConsoleScreenshot')).toEqual([
      expect.objectContaining({ allowed: true, detail: 'DryRunOperation' }),
    ]);
    expect(proxy.screenshotRequests.filter((r) => r.InstanceId === instanceId).map((r) => r.DryRun)).toEqual(['true']);
  });
});
