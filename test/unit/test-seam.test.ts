/** Test hooks enter through one seam (src/core/test-seam.ts, docs/testing.md), and test-only emulators are not packed. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_SEAM } from '../../src/core/test-seam.js';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the test seam', () => {
  it('no product file names a seam variable but src/core/test-seam.ts', () => {
    const names = Object.values(TEST_SEAM);
    const naming = [...sources('src'), ...sources('providers')]
      .filter((f) => f !== join('src', 'core', 'test-seam.ts'))
      .filter((f) => names.some((n) => readFileSync(join(ROOT, f), 'utf8').includes(n)));
    expect(naming).toEqual([]);
  });

  it('docs/testing.md documents every seam variable', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'testing.md'), 'utf8');
    for (const name of Object.values(TEST_SEAM)) expect(doc).toContain(`\`${name}`);
  });

  it('the test-only emulators are left out of the package (package.json files)', () => {
    const files = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
    for (const module of ['fault-proxy', 'kube-binder']) {
      expect(files).toContain(`!dist/src/emulators/${module}.*`);
      // Only tests and benches import them.
      const importers = [...sources('src'), ...sources('providers')].filter((f) =>
        readFileSync(join(ROOT, f), 'utf8').includes(`/${module}.js'`),
      );
      expect(importers).toEqual([]);
    }
  });
});
