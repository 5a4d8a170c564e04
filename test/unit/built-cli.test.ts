import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleBuildOutputs } from '../support/built-cli.js';

/** A tree with src/ and providers/ sources and their dist/ outputs, each with the given age in seconds. */
function tree(files: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'hf-built-'));
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(join(root, 'providers'), { recursive: true });
  const now = Date.now() / 1000;
  for (const [path, age] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), now - age, now - age);
  }
  return root;
}

describe('the CLI tier refuses a stale dist/', () => {
  it('accepts outputs newer than their sources', () => {
    const root = tree({ 'src/a.ts': 60, 'dist/src/a.js': 10, 'providers/p/x.ts': 60, 'dist/providers/p/x.js': 10 });
    expect(staleBuildOutputs(root)).toEqual([]);
  });

  it('names each source edited after the build, and each source never built', () => {
    const root = tree({
      'src/a.ts': 5,
      'dist/src/a.js': 10,
      'src/b.ts': 60,
      'dist/src/b.js': 10,
      'providers/p/new.ts': 60,
      'src/types.d.ts': 1,
      'providers/p/x.test.ts': 1,
    });
    expect(staleBuildOutputs(root).sort()).toEqual(['providers/p/new.ts', 'src/a.ts']);
  });
});
