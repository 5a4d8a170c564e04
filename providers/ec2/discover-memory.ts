/**
 * What the memory step needs to know before planning: the AVML binary (pinned by its SHA-256 in the
 * plan), each instance's platform, whether SSM manages it and how much memory its type has.
 * Read only when memory may be taken (--memory, or severity high).
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BadInputError } from '../../src/core/errors.js';
import { hashReadable } from '../../src/evidence/hash.js';
import type { ProviderContext } from '../../src/core/types.js';
import { instanceTypeMemory, ssmManagedInstances, type Ec2Clients } from './client.js';
import type { AvmlTool, Ec2MemoryFacts, Ec2Params, MemoryFacts } from './facts.js';
import { DEFAULT_MEMORY_TIMEOUT_SECONDS } from './params.js';

/** The AVML release scripts/build-avml.sh builds (crate `avml` on crates.io). */
export const AVML_VERSION = '0.21.0';

/** Where scripts/build-avml.sh leaves the binary. */
export function cachedAvmlPath(env: NodeJS.ProcessEnv): string {
  const cache = env.HOLDFAST_CACHE ?? join(env.HOME ?? '', '.cache', 'holdfast');
  return join(cache, 'avml', AVML_VERSION, 'avml');
}

/** The binary's version (`avml --version`) and SHA-256; a problem when it is missing or does not run. */
async function readAvml(path: string): Promise<AvmlTool | string> {
  if (!existsSync(path)) return `no AVML binary at ${path} (build it with scripts/build-avml.sh)`;
  try {
    const { stdout } = await promisify(execFile)(path, ['--version'], { timeout: 10_000 });
    const version = /avml\s+(\S+)/.exec(stdout)?.[1];
    if (!version) return `${path} is not AVML (--version said ${JSON.stringify(stdout.trim().slice(0, 60))})`;
    const { sha256 } = await hashReadable(createReadStream(path));
    return { path, version, sha256 };
  } catch (error) {
    return `${path} does not run: ${(error as Error).message.split('\n')[0]}`;
  }
}

/** One instance as discovery read it, for the memory facts. */
export type MemoryCandidate = { instanceId: string; instanceType: string; platform: string | undefined };

/** Memory facts for the targeted instances; --memory without a usable AVML is bad input (before any change). */
export async function discoverMemory(
  params: Ec2Params,
  ctx: ProviderContext,
  c: Ec2Clients,
  candidates: MemoryCandidate[],
): Promise<Ec2MemoryFacts> {
  const explicit = params.memory === true;
  const tool = await readAvml(params.avmlBinary ?? cachedAvmlPath(ctx.env));
  if (typeof tool === 'string' && explicit)
    throw new BadInputError({
      field: params.avmlBinary ? 'targets.ec2.avmlBinary' : 'targets.ec2.memory',
      message: tool,
    });
  let managed: Awaited<ReturnType<typeof ssmManagedInstances>> | undefined;
  let ssmProblem = '';
  try {
    managed = await ssmManagedInstances(
      c,
      candidates.map((i) => i.instanceId),
    );
  } catch (error) {
    // moto has no DescribeInstanceInformation (500); a role without ssm:DescribeInstanceInformation is denied.
    ssmProblem = (error as Error).name || 'Error';
  }
  let memoryOf: Record<string, number> = {};
  try {
    memoryOf = await instanceTypeMemory(c, [...new Set(candidates.map((i) => i.instanceType))]);
  } catch {
    // Unknown memory size: the planner uses the largest single upload.
  }
  const instances: Record<string, MemoryFacts> = {};
  for (const i of candidates) {
    const info = managed?.get(i.instanceId);
    const ssm: MemoryFacts['ssm'] = !managed
      ? 'unknown'
      : !info
        ? 'not-managed'
        : info.pingStatus === 'Online'
          ? 'online'
          : 'offline';
    instances[i.instanceId] = {
      platform: i.platform === 'windows' || info?.platformType === 'Windows' ? 'windows' : 'linux',
      ssm,
      ...(ssm === 'unknown' ? { ssmDetail: `DescribeInstanceInformation failed: ${ssmProblem}` } : {}),
      ...(ssm === 'offline' ? { ssmDetail: `SSM agent ping status ${info!.pingStatus}` } : {}),
      ...(memoryOf[i.instanceType] ? { memoryMiB: memoryOf[i.instanceType]! } : {}),
    };
  }
  return {
    explicit,
    ...(typeof tool === 'string' ? { toolProblem: tool } : { tool }),
    timeoutSeconds: params.memoryTimeoutSeconds ?? DEFAULT_MEMORY_TIMEOUT_SECONDS,
    instances,
  };
}
