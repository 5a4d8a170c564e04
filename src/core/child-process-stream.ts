/**
 * A child process's stdout as a Readable that ends only if the child exits 0. A non-zero exit or a
 * signal destroys the stream with an error, so a truncated output is never stored as complete.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { RemoteError } from './errors.js';

/** Bytes of stderr kept for the error message. */
export const STDERR_TAIL_BYTES = 4096;

export interface ChildStream {
  stdout: Readable;
  pid: number | undefined;
  /** Resolves with the exit code (0) or rejects like the stream. */
  exited: Promise<number>;
}

/** Spawn `command` and expose its stdout; `describeFailure` turns a stderr tail into a message (and redacts). */
export function childProcessStream(
  command: string,
  args: string[],
  options: SpawnOptions & {
    describeFailure?: (stderrTail: string, code: number | null, signal: NodeJS.Signals | null) => Error;
  } = {},
): ChildStream {
  const { describeFailure, ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  });
  // End our stream ourselves: only after the exit status says the output is whole.
  child.stdout!.pipe(out, { end: false });
  let settled = false;
  const exited = new Promise<number>((resolve, reject) => {
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      out.destroy(error);
      reject(error);
    };
    child.on('error', (error) =>
      fail(
        new RemoteError(
          `${command} could not be started: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
          false,
          { cause: error },
        ),
      ),
    );
    child.on('close', (code, signal) => {
      if (code === 0) {
        settled = true;
        out.end();
        resolve(0);
        return;
      }
      const error =
        describeFailure?.(stderr, code, signal) ??
        new RemoteError(
          `${command} ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${stderr.trim().split('\n').at(-1) ?? ''}`,
          false,
        );
      fail(error);
    });
  });
  exited.catch(() => {});
  // If the consumer gives up (store failed, abort), stop the child rather than let it run on.
  out.on('close', () => {
    if (!settled && child.exitCode === null) child.kill('SIGTERM');
  });
  return { stdout: out, pid: child.pid, exited };
}
