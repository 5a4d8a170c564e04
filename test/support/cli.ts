/** Run the built `evidence` binary the way a responder would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
export const STREAM_PLUGIN = fileURLToPath(new URL('./stream-provider.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as NDJSON (with --json). */
  lines: Record<string, unknown>[];
}

/** Start the CLI; the caller may signal or kill it. */
export function startCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const cwd = options.cwd ?? process.cwd();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: testStateEnv(options.env ?? process.env, cwd),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code: code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : null), stdout, stderr, lines });
    });
  });
  return { child, done };
}

/**
 * Keep each test's journals in its own folder (cwd/.holdfast, as the tests read them) unless the
 * test chooses a state dir itself (HOLDFAST_STATE_DIR or XDG_STATE_HOME): the real default is the
 * user's ~/.local/state/holdfast, which tests must neither share nor litter.
 */
export function testStateEnv(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  if (env.HOLDFAST_STATE_DIR !== undefined || env.XDG_STATE_HOME !== undefined) return env;
  return { ...env, HOLDFAST_STATE_DIR: join(resolve(cwd), '.holdfast') };
}

/** Run the CLI to completion. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}
