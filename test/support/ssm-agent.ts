/**
 * A stand-in SSM agent for tests (not shipped). moto stores SendCommand and marks it Success at once
 * without running anything; this agent polls moto's ListCommands for its instance, runs each new
 * AWS-RunShellScript script for real with `sh` inside its own mount namespace (`unshare -m`, as
 * root) where /dev/mem is a synthetic memory file and /proc/iomem names it System RAM, so the real
 * AVML reads it without touching the host. The script's exit status and error output are answered to
 * GetCommandInvocation through the stand-in proxy, as SSM would report them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { StandInProxy } from './stand-in-proxy.js';

/** Physical address where the synthetic System RAM starts (below it, as on x86, is reserved). */
export const SYNTHETIC_RAM_START = 0x1000;

export interface StandInAgentOptions {
  /** moto's endpoint: the agent reads commands from moto itself, never through the proxy. */
  motoEndpoint: string;
  proxy: StandInProxy;
  instanceId: string;
  /** The synthetic memory: a file whose bytes at SYNTHETIC_RAM_START… are the RAM AVML reads. */
  memoryFile: string;
  /** Its size in bytes (the iomem range ends at size − 1). */
  memoryBytes: number;
  /** Change the script before it runs (fault injection: a short upload, a wrong pinned hash). */
  rewrite?: (script: string) => string;
  pollMs?: number;
}

export interface StandInAgent {
  /** Command ids run so far, and how each ended. */
  runs: { commandId: string; exitCode: number | null; stderr: string }[];
  /** Resolves when the agent starts running a command (its id). */
  started(): Promise<string>;
  /** Resolves when a run has finished (its exit code). */
  finished(commandId: string): Promise<number | null>;
  stop(): Promise<void>;
}

/** Shell run inside the new mount namespace before the command's script. */
function namespaceSetup(work: string, memoryFile: string): string {
  return [
    'set -e',
    // Keep the real device nodes curl and sh need, then hide everything else under a tmpfs.
    `mkdir -p ${work}/dev`,
    `mount --bind /dev ${work}/dev`,
    'mount -t tmpfs -o size=1m holdfast-dev /dev',
    `for n in null zero random urandom; do touch /dev/$n; mount --bind ${work}/dev/$n /dev/$n; done`,
    `touch /dev/mem && mount --bind ${memoryFile} /dev/mem`,
    `mount --bind ${work}/iomem /proc/iomem`,
    'set +e',
    `exec sh ${work}/script.sh`,
  ].join('\n');
}

/** Start polling for commands sent to `instanceId`; registers the instance as SSM-managed (Online, Linux). */
export function startStandInAgent(options: StandInAgentOptions): StandInAgent {
  const ssm = new SSMClient({
    endpoint: options.motoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 3,
  });
  options.proxy.managed.set(options.instanceId, { instanceId: options.instanceId, platformType: 'Linux' });
  const seen = new Set<string>();
  const runs: StandInAgent['runs'] = [];
  const children = new Set<ChildProcess>();
  const done = new Map<string, Promise<number | null>>();
  let onStart: ((id: string) => void)[] = [];
  let stopped = false;

  const run = (commandId: string, script: string) =>
    new Promise<number | null>((resolve) => {
      const work = mkdtempSync(join(tmpdir(), 'hf-agent-'));
      writeFileSync(join(work, 'script.sh'), options.rewrite ? options.rewrite(script) : script);
      const end = (SYNTHETIC_RAM_START + options.memoryBytes - 1).toString(16).padStart(8, '0');
      writeFileSync(join(work, 'iomem'), `00000000-00000fff : Reserved\n00001000-${end} : System RAM\n`);
      options.proxy.invocations.set(commandId, { status: 'InProgress', stderr: '' });
      const child = spawn('unshare', ['-m', 'sh', '-c', namespaceSetup(work, options.memoryFile)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      child.stdout.resume();
      child.on('close', (code) => {
        children.delete(child);
        runs.push({ commandId, exitCode: code, stderr });
        options.proxy.invocations.set(commandId, { status: code === 0 ? 'Success' : 'Failed', stderr });
        resolve(code);
      });
    });

  const poll = async () => {
    while (!stopped) {
      try {
        const res = await ssm.send(new ListCommandsCommand({ InstanceId: options.instanceId }));
        for (const c of res.Commands ?? []) {
          if (seen.has(c.CommandId!) || c.DocumentName !== 'AWS-RunShellScript') continue;
          // moto neither filters ListCommands by InstanceId nor keeps each command's own InstanceIds
          // apart (later commands show earlier instances), and ListCommandInvocations answers 500:
          // the script's first line, which names its instance, says whose command it is.
          const script = c.Parameters?.commands?.join('\n') ?? '';
          if (!script.split('\n', 1)[0]!.includes(` memory of ${options.instanceId} `)) continue;
          seen.add(c.CommandId!);
          done.set(c.CommandId!, run(c.CommandId!, script));
          for (const f of onStart) f(c.CommandId!);
          onStart = [];
        }
      } catch {
        // moto busy: poll again
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 300));
    }
  };
  const polling = poll();

  return {
    runs,
    started: () => new Promise((resolve) => onStart.push(resolve)),
    finished: async (commandId) => {
      while (!done.has(commandId)) await new Promise((r) => setTimeout(r, 100));
      return done.get(commandId)!;
    },
    async stop() {
      stopped = true;
      await polling;
      await Promise.all([...done.values()]);
      for (const c of children) c.kill();
    },
  };
}
