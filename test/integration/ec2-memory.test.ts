/**
 * The memory step end to end: holdfast sends the AVML script through SSM (moto), a stand-in agent
 * runs it for real with the pinned AVML against a synthetic memory device in its own mount
 * namespace and uploads through the presigned URLs to moto's S3; the image holdfast records is
 * converted back with `avml convert` and compared with the synthetic memory byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { motoPython } from '../../src/emulators/moto.js';
import { executePlan, planCapture, type CaptureEvent, type Provider } from '../../src/index.js';
import { hashReadable } from '../../src/evidence/hash.js';
import { createEc2Clients } from '../../providers/ec2/client.js';
import { cachedAvmlPath } from '../../providers/ec2/discover-memory.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { clientDefaults, createTestBucket, motoEnv, testIncident, testS3 } from '../support/aws.js';
import { policyAllows, readPolicy, recordCommands } from '../support/policy.js';
import { LINUX_AMI, motoEc2, seedFleet } from '../support/fleet.js';
import { startStandInAgent, SYNTHETIC_RAM_START, type StandInAgent } from '../support/ssm-agent.js';
import { startStandInProxy, type StandInProxy } from '../support/stand-in-proxy.js';

const providers = [ec2Provider as unknown as Provider];
const AVML = cachedAvmlPath(process.env);
const RAM_BYTES = 8 * 1024 * 1024;
/** holdfast's own credentials in these tests: the secret must never reach the host. */
const SECRET = `holdfast-secret-${randomBytes(6).toString('hex')}`;

/** A synthetic memory file: zeros below SYNTHETIC_RAM_START, then random "RAM" (as AVML's raw output lays it out). */
function syntheticMemory(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hf-mem-')), 'mem');
  writeFileSync(file, Buffer.concat([Buffer.alloc(SYNTHETIC_RAM_START), randomBytes(RAM_BYTES)]));
  return file;
}

describe('EC2 memory through SSM with the pinned AVML', () => {
  let proxy: StandInProxy;
  let memoryFile: string;
  const agents: StandInAgent[] = [];
  /** Every SSM call the provider sent in these tests (ec2-policy.test.ts sends no memory step). */
  const ssmSent = new Set<string>();

  beforeAll(async () => {
    // Built by test/support/prepare-servers.sh (scripts/build-avml.sh); a missing binary fails, never skips.
    expect(existsSync(AVML), `${AVML} missing: run scripts/build-avml.sh`).toBe(true);
    proxy = await startStandInProxy(inject('motoEndpoint'));
    memoryFile = syntheticMemory();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await proxy.close();
  });

  async function setUp(options: { type?: 't3.micro' | 'm5.large'; rewrite?: (s: string) => string } = {}) {
    const [instanceId] = (
      await seedFleet(motoEc2(inject('motoEndpoint')), randomBytes(3).toString('hex'), 1, 1, options.type, LINUX_AMI)
    ).instanceIds;
    const agent = startStandInAgent({
      motoEndpoint: inject('motoEndpoint'),
      proxy,
      instanceId: instanceId!,
      memoryFile,
      memoryBytes: RAM_BYTES,
      ...(options.rewrite ? { rewrite: options.rewrite } : {}),
    });
    agents.push(agent);
    const bucket = await createTestBucket();
    const dir = mkdtempSync(join(tmpdir(), 'hf-memory-'));
    const env = motoEnv({
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDHOLDFAST',
      AWS_SECRET_ACCESS_KEY: SECRET,
    });
    const clients = {
      ec2: createEc2Clients({
        ...clientDefaults(),
        region: 'us-east-1',
        endpoint: proxy.endpoint,
        maxAttempts: 1,
        credentials: { accessKeyId: 'AKIDHOLDFAST', secretAccessKey: SECRET },
      }),
    };
    recordCommands(clients.ec2.ssm as never, 'ssm', ssmSent);
    const incident = testIncident('MEM');
    const plan = await planCapture(
      {
        incident,
        store: `s3://${bucket}/cases`,
        forensicCidrs: ['198.51.100.7/32'],
        targets: { ec2: { instances: [instanceId!], memory: true, memoryTimeoutSeconds: 60 } },
      },
      { providers, env, clients },
    );
    const run = async (signal?: AbortSignal) => {
      const events: CaptureEvent[] = [];
      const outcome = await executePlan(plan, {
        providers,
        env,
        clients,
        stateDir: dir,
        onEvent: (e) => events.push(e),
        ...(signal ? { signal } : {}),
      });
      return { outcome, events };
    };
    return { instanceId: instanceId!, agent, bucket, plan, run, incident };
  }

  async function stateOf(instanceId: string) {
    const res = await motoEc2(inject('motoEndpoint')).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return res.Reservations?.[0]?.Instances?.[0]?.State?.Name;
  }

  async function sentCommands(instanceId: string) {
    const ssm = new SSMClient({
      endpoint: inject('motoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    return (await ssm.send(new ListCommandsCommand({ InstanceId: instanceId }))).Commands ?? [];
  }

  const destructive = () => proxy.calls.filter((c) => /:(Stop|Reboot|Terminate|Delete)/.test(c));

  it('acquires the memory before isolation; the recorded image converts back to the synthetic memory byte for byte', async () => {
    // m5.large: 8 GiB of memory, more than one PutObject takes, so the upload is multipart.
    const { instanceId, plan, run, bucket, incident } = await setUp({ type: 'm5.large' });
    const memoryStep = plan.steps.find((s) => s.id === `ec2:memory/${instanceId}`)!;
    expect(memoryStep.inputs).toMatchObject({ parts: 9, partMiB: 1024 });
    expect(plan.steps.find((s) => s.id === `ec2:isolate/${instanceId}`)?.dependsOn).toContain(memoryStep.id);
    const { outcome, events } = await run();
    expect(outcome.failures).toEqual([]);
    expect(outcome.status).toBe('complete');
    const image = outcome.artifacts.find((a) => a.type === 'memory-image')!;
    expect(image.method).toMatchObject({
      tool: 'avml',
      toolVersion: '0.21.0',
      toolSha256: memoryStep.inputs.avml && (memoryStep.inputs.avml as { sha256: string }).sha256,
      format: 'avml-compressed',
      ssmStatus: expect.any(String),
      ssmStatusIsAdvisory: true,
      hostReported: { size: image.size, sha256: image.sha256 },
    });
    expect(image.method.ssmCommandId).toMatch(/^[0-9a-f-]{36}$/);
    expect(image.location).toMatchObject({ bucket, versionId: expect.any(String) });
    expect(image.preservation).toMatchObject({ lockMode: 'COMPLIANCE' });
    const tool = outcome.artifacts.find((a) => a.type === 'memory-tool')!;
    expect(tool.sha256).toBe(image.method.toolSha256);

    // holdfast's hash is of the bytes in the store; converted back they are the synthetic memory.
    const s3 = await testS3();
    const got = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: String(image.location.s3Key ?? `cases/${image.location.key}`) }),
    );
    const local = join(mkdtempSync(join(tmpdir(), 'hf-img-')), 'image.lime');
    writeFileSync(local, Buffer.from(await got.Body!.transformToByteArray()));
    expect((await hashReadable((await import('node:fs')).createReadStream(local))).sha256).toBe(image.sha256);
    execFileSync(AVML, ['convert', '--format', 'raw', local, `${local}.raw`]);
    expect(readFileSync(`${local}.raw`).equals(readFileSync(memoryFile))).toBe(true);

    // The independent verifier re-reads every artifact at its version and checks the image's header.
    execFileSync(
      motoPython(),
      [
        fileURLToPath(new URL('../conformance/verify_evidence.py', import.meta.url)),
        `s3://${bucket}/cases`,
        incident,
        '--s3-endpoint',
        inject('motoEndpoint'),
      ],
      { encoding: 'utf8', env: motoEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );

    // Memory before containment: the image's receipt was in before the first isolation change.
    const at = (match: (e: CaptureEvent) => boolean) => events.findIndex(match);
    const memoryDone = at((e) => e.type === 'step.done' && e.stepId === memoryStep.id);
    const firstIsolation = at((e) => e.type === 'change.recorded' && e.change.reversible);
    expect(memoryDone).toBeGreaterThanOrEqual(0);
    expect(firstIsolation).toBeGreaterThan(memoryDone);

    // No AWS credentials and no output bucket reach SSM or the host.
    const [command] = await sentCommands(instanceId);
    const script = command!.Parameters!.commands!.join('\n');
    expect(script).not.toContain(SECRET);
    expect(script).not.toMatch(/AWS_(SECRET|SESSION|ACCESS)/);
    expect(command!.OutputS3BucketName ?? '').toBe('');
    expect(await stateOf(instanceId)).toBe('running');
    expect(destructive()).toEqual([]);
  });

  it('a Windows instance, or one SSM does not manage, gets a limitation line, not a failure', async () => {
    const ec2 = motoEc2(inject('motoEndpoint'));
    const [windows] = (await seedFleet(ec2, randomBytes(3).toString('hex'), 1, 1)).instanceIds;
    const [unmanaged] = (await seedFleet(ec2, randomBytes(3).toString('hex'), 1, 1, 't3.micro', LINUX_AMI)).instanceIds;
    proxy.managed.set(windows!, { instanceId: windows!, platformType: 'Windows' });
    const plan = await planCapture(
      {
        incident: testIncident('MEMLIM'),
        forensicCidrs: ['198.51.100.7/32'],
        store: `s3://${await createTestBucket()}/cases`,
        targets: { ec2: { instances: [windows!, unmanaged!], memory: true } },
      },
      { providers, env: motoEnv({ AWS_ENDPOINT_URL: proxy.endpoint }) },
    );
    expect(plan.steps.filter((s) => s.action === 'memory')).toEqual([]);
    expect(plan.limitations).toEqual(
      expect.arrayContaining([
        `memory of ${windows} not acquired: a Windows instance (AVML reads Linux memory only)`,
        `memory of ${unmanaged} not acquired: no SSM agent answers for it (not managed by SSM)`,
      ]),
    );
  });

  it('a short upload fails the memory-image step (a listed failure: partial, exit 4 in the CLI), and isolation still happens', async () => {
    const { instanceId, run } = await setUp({
      // The host uploads half of the image; its receipt still says what AVML wrote.
      rewrite: (s) =>
        s
          .replace(/-T "\$work\/image\.lime"/, `-T "$work/short.lime"`)
          .replace(
            /(\n[^\n]*-T "\$work\/short\.lime")/,
            `\nhead -c $((size / 2)) "$work/image.lime" > "$work/short.lime"$1`,
          ),
    });
    const { outcome } = await run();
    expect(outcome.status).toBe('partial');
    expect(outcome.failures.map((f) => [f.stepId, f.code])).toEqual([
      [`ec2:memory-image/${instanceId}`, 'INTEGRITY_FAILURE'],
    ]);
    expect(outcome.failures[0]!.message).toMatch(/short image: \d+ bytes in the store, the host wrote \d+/);
    expect(outcome.artifacts.some((a) => a.type === 'memory-image')).toBe(false);
    expect(outcome.changes.some((c) => c.stepId === `ec2:isolate/${instanceId}`)).toBe(true);
    expect(await stateOf(instanceId)).toBe('running');
    expect(destructive()).toEqual([]);
  });

  it('a host whose AVML does not have the pinned SHA-256 refuses to run it; the step fails, nothing is stopped', async () => {
    const { instanceId, run, agent } = await setUp({
      // As if the binary the host fetched were another one: the pinned hash no longer matches it.
      rewrite: (s) => s.replace(/echo "[0-9a-f]{64} /, `echo "${'0'.repeat(64)} `),
    });
    const { outcome } = await run();
    expect(outcome.status).toBe('partial');
    expect(outcome.failures.map((f) => f.stepId)).toEqual([`ec2:memory-image/${instanceId}`]);
    expect(outcome.failures[0]!.message).toMatch(
      /SSM says Failed; the host said: holdfast: AVML does not have the pinned SHA-256: refusing to run it/,
    );
    expect(outcome.manifest?.limitations).toContain(
      `memory of ${instanceId} not acquired: SSM says Failed; the host said: holdfast: AVML does not have the pinned SHA-256: refusing to run it; isolation went on`,
    );
    expect(agent.runs.map((r) => r.exitCode)).toEqual([3]);
    expect(outcome.changes.some((c) => c.stepId === `ec2:isolate/${instanceId}`)).toBe(true);
    expect(await stateOf(instanceId)).toBe('running');
    expect(destructive()).toEqual([]);
  });

  it('a capture stopped mid-acquisition resumes: the re-run adopts the uploaded image without a second command', async () => {
    const { instanceId, run, agent } = await setUp({
      // Slow the host so the capture is stopped while AVML is still working.
      rewrite: (s) => s.replace('"$work/avml" acquire', 'sleep 3; "$work/avml" acquire'),
    });
    const abort = new AbortController();
    void agent.started().then(() => setTimeout(() => abort.abort(), 500));
    const first = await run(abort.signal);
    expect(first.outcome.status).not.toBe('complete');
    expect(first.outcome.artifacts.some((a) => a.type === 'memory-image')).toBe(false);
    const [command] = await sentCommands(instanceId);
    expect(await agent.finished(command!.CommandId!), agent.runs.map((r) => r.stderr).join('\n')).toBe(0);
    const second = await run();
    expect(second.outcome.status).toBe('complete');
    expect(second.outcome.artifacts.filter((a) => a.type === 'memory-image')).toHaveLength(1);
    expect(await sentCommands(instanceId)).toHaveLength(1);
    expect(await stateOf(instanceId)).toBe('running');
  });

  it('every SSM call the memory step sent is granted by policies/aws/ec2.json', () => {
    const policy = readPolicy('aws/ec2.json');
    expect([...ssmSent].sort()).toEqual([
      'ssm:DescribeInstanceInformation',
      'ssm:GetCommandInvocation',
      'ssm:SendCommand',
    ]);
    for (const call of ssmSent) expect(policyAllows(policy, call), call).toBe(true);
  });
});
