/**
 * Golden file: a fixed journal (written by a real in-process capture with a fake provider: an
 * artifact, a change, a failed step, a limitation) folds into exactly the canonical manifest the
 * engine sealed for it. Any change to the fold or to canonical JSON shows up here as a diff of bytes;
 * if the change is intended, the fixture is regenerated and the diff reviewed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkJournalChain } from '../../src/evidence/journal.js';
import { foldManifest, serializeManifest, type FoldedStep, type SealInfo } from '../../src/evidence/manifest.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/manifest-fold/${name}`, import.meta.url), 'utf8');

describe('manifest fold (golden file)', () => {
  const chain = checkJournalChain(fixture('journal.ndjson'));
  const sealIndex = chain.events.findIndex((e) => e.type === 'capture.sealed');
  const sealed = chain.events[sealIndex];
  const expected = fixture('manifest.json');

  it('the fixture is an intact journal whose seal names the golden manifest', () => {
    expect(chain.ok).toBe(true);
    expect(sealed?.type).toBe('capture.sealed');
    expect(sealed && 'manifestSha256' in sealed && sealed.manifestSha256).toBe(
      createHash('sha256').update(expected).digest('hex'),
    );
  });

  it('folds the events before the seal into exactly the sealed canonical manifest', () => {
    const steps = JSON.parse(fixture('steps.json')) as FoldedStep[];
    const seal = JSON.parse(fixture('seal.json')) as SealInfo;
    const { text, sha256 } = serializeManifest(foldManifest(steps, chain.events.slice(0, sealIndex), seal));
    expect(text).toBe(expected);
    expect(sha256).toBe(createHash('sha256').update(expected).digest('hex'));
  });
});
