/** Who ran holdfast and which holdfast: recorded in every manifest. */
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonObject } from './types.js';

/** The package root (works from src/ under tsx and from dist/src/ once built). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (
    !existsSync(join(dir, 'package.json')) ||
    !readFileSync(join(dir, 'package.json'), 'utf8').includes('"name": "holdfast"')
  ) {
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

/** node_modules folders Node would search from `dir`, nearest first. */
function nodeModulesChain(dir: string): string[] {
  const chain: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    if (basename(d) !== 'node_modules') chain.push(join(d, 'node_modules'));
    if (dirname(d) === d) return chain;
  }
}

let cached: JsonObject | undefined;

/** Name, version, Node version and the installed versions of holdfast's dependencies. */
export function toolInfo(): JsonObject {
  if (cached) return cached;
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    dependencies?: Record<string, string>;
  };
  const dependencies: JsonObject = {};
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    // Installed as a package, dependencies are hoisted beside holdfast: look up the node_modules chain.
    const file = nodeModulesChain(root)
      .map((dir) => join(dir, name, 'package.json'))
      .find((f) => existsSync(f));
    dependencies[name] = file ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'unknown';
  }
  cached = {
    name: 'holdfast',
    version: pkg.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    dependencies,
  };
  return cached;
}

/** `holdfast/<version>`: the User-Agent of every request holdfast sends, so audit logs name the tool. */
export function userAgent(): string {
  return `holdfast/${String(toolInfo().version)}`;
}

/** The field manager of every Kubernetes write: managedFields then say which fields holdfast set. */
export const FIELD_MANAGER = 'holdfast';

/** The local operator: OS user and host (the cloud identity is added by the caller). */
export function localOperator(): JsonObject {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return { osUser: user, host: hostname(), pid: process.pid };
}
