/**
 * Where local journals live. One answer for every command and the library, independent of the
 * current directory: --state-dir, else $HOLDFAST_STATE_DIR, else a ./.holdfast left by older
 * versions (still found, and named as such), else the user's XDG state directory.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The folder older versions used, relative to wherever they ran. */
export const LEGACY_STATE_DIR = '.holdfast';

/** How the state dir was chosen, so the CLI can say so when it is not the default. */
export type StateDirSource = 'option' | 'env' | 'legacy' | 'xdg';

export interface StateDirChoice {
  /** Absolute path. */
  dir: string;
  source: StateDirSource;
}

/** The state dir and why: option, then $HOLDFAST_STATE_DIR, then an existing ./.holdfast, then XDG state home. */
export function chooseStateDir(
  stateDir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): StateDirChoice {
  if (stateDir) return { dir: resolve(cwd, stateDir), source: 'option' };
  if (env.HOLDFAST_STATE_DIR) return { dir: resolve(cwd, env.HOLDFAST_STATE_DIR), source: 'env' };
  const legacy = resolve(cwd, LEGACY_STATE_DIR);
  if (isDirectory(legacy)) return { dir: legacy, source: 'legacy' };
  return { dir: join(xdgStateHome(env), 'holdfast'), source: 'xdg' };
}

/** Where local journals live, as an absolute path (see `chooseStateDir`). */
export function resolveStateDir(
  stateDir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string {
  return chooseStateDir(stateDir, env, cwd).dir;
}

/** $XDG_STATE_HOME when absolute (the spec says to ignore a relative one), else ~/.local/state. */
function xdgStateHome(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_STATE_HOME;
  if (xdg && xdg.startsWith('/')) return xdg;
  return join(env.HOME || homedir(), '.local', 'state');
}

function isDirectory(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** One line for people when the state dir is not the default, or undefined. */
export function describeStateDir(choice: StateDirChoice): string | undefined {
  if (choice.source === 'legacy')
    return `using the journal folder ${choice.dir} found here, where older versions kept journals (elsewhere the default is ~/.local/state/holdfast)`;
  return undefined;
}

/** Resolve the local journal path for an incident. */
export function journalPath(stateDir: string, incident: string): string {
  return join(resolve(stateDir), incident, 'journal.ndjson');
}
