/**
 * Local AWS emulator (moto server) for tests and drills: installed into a cached Python venv on
 * first use, started on a free loopback port. Nothing here is used by a real capture.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const MOTO_VERSION = '5.2.5';
const MOTO_READY_TIMEOUT_MS = 30_000;

/** The cache folder holdfast keeps emulators in (outside the repo). */
export function cacheDir(): string {
  return process.env.HOLDFAST_CACHE ?? join(homedir(), '.cache', 'holdfast');
}

function venvDir(): string {
  return join(cacheDir(), `moto-${MOTO_VERSION}`);
}

/** The Python of moto's venv: the conformance tests use the `cryptography` and `jsonschema` moto[server] brings. */
export function motoPython(): string {
  return join(venvDir(), 'bin', 'python');
}

/** Path of the moto_server executable, installing it into the cache venv when missing. */
export async function ensureMoto(log: (line: string) => void = () => {}): Promise<string> {
  return ensurePythonTool({
    venv: venvDir(),
    packages: [`moto[server]==${MOTO_VERSION}`],
    bin: 'moto_server',
    what: 'the AWS emulator (moto)',
    log,
  });
}

/**
 * A command from PyPI in its own venv under the cache (moto, case-utils' case_validate): installed
 * on first use, found at once afterwards. Returns the command's path.
 */
export async function ensurePythonTool(tool: {
  venv: string;
  packages: string[];
  bin: string;
  what: string;
  log?: (line: string) => void;
}): Promise<string> {
  const bin = join(tool.venv, 'bin', tool.bin);
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir(), { recursive: true });
  const python = process.env.HOLDFAST_PYTHON ?? 'python3';
  tool.log?.(`installing ${tool.packages.join(' ')} into ${tool.venv} (first use only)`);
  try {
    await execFileAsync(python, ['-m', 'venv', tool.venv], { timeout: 120_000 });
    await execFileAsync(
      join(tool.venv, 'bin', 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', ...tool.packages],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(
      `could not install ${tool.what} with ${python}: ${detail.trim().slice(-800)}\n` +
        'install Python 3 with the venv module (Debian: apt-get install python3-venv) and retry',
      { cause: error },
    );
  }
  if (!existsSync(bin)) throw new Error(`${tool.what} installed but ${bin} is missing`);
  return bin;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface MotoServer {
  endpoint: string;
  port: number;
  /** The server's process id (benches read its CPU time). */
  pid: number | undefined;
  /** Forget all state (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Start moto server on a free loopback port and wait until it answers. */
export async function startMoto(options: { logFile?: string; log?: (line: string) => void } = {}): Promise<MotoServer> {
  const bin = await ensureMoto(options.log);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const out = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', out, out],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let exited = false;
  child.once('exit', () => (exited = true));

  const deadline = Date.now() + MOTO_READY_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`moto server exited during start-up (port ${port})`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto server did not answer on ${endpoint} within ${MOTO_READY_TIMEOUT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    port,
    pid: child.pid,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}
