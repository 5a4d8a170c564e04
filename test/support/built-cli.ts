/**
 * Global setup of the CLI tier: the CLI tests run the built `dist/`, so a source file newer than its
 * build output (or without one) would test yesterday's code and pass or fail for the wrong reason.
 * Fail at once and say what to run instead.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The folders `npm run build` compiles (tsconfig.json's include). */
const SOURCE_DIRS = ['src', 'providers'];

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts'))
      yield path;
  }
}

/** Source files whose compiled `.js` in dist/ is missing or older than the source. */
export function staleBuildOutputs(root = ROOT): string[] {
  const stale: string[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const source of sourceFiles(join(root, dir))) {
      const rel = relative(root, source);
      const output = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
      if (!existsSync(output) || statSync(output).mtimeMs < statSync(source).mtimeMs) stale.push(rel);
    }
  }
  return stale;
}

export default function setup(): void {
  const stale = staleBuildOutputs();
  if (stale.length === 0) return;
  const shown = stale.slice(0, 5).join(', ') + (stale.length > 5 ? ` and ${stale.length - 5} more` : '');
  throw new Error(
    `dist/ is older than the source (${shown}): the CLI tests run the built CLI, so run \`npm run build\` ` +
      'first (npm test and npm run test:cli do)',
  );
}
