import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every file under `dir` (skipping node_modules), relative to the repository. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

describe('the repository stands on its own', () => {
  it('no source, doc, policy or schema points at a design document outside the repository', () => {
    const files = ['README.md', ...['docs', 'src', 'providers', 'policies', 'schemas', 'scripts'].flatMap(filesUnder)];
    const outside = /\.\.\/shared\/|design\.md|\bdesign §|\(design:/i;
    expect(files.filter((f) => outside.test(readFileSync(join(ROOT, f), 'utf8')))).toEqual([]);
  });
});
