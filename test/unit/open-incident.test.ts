import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/core/errors.js';
import type { Case } from '../../src/core/types.js';
import { Journal } from '../../src/evidence/journal.js';
import { openIncident } from '../../src/engine/open-incident.js';
import { journalPath } from '../../src/engine/state-dir.js';
import { journalPrefix } from '../../src/evidence/store-keys.js';
import { memoryStore } from '../support/memory-store.js';

const kase = (incident: string, dir = '/srv/evidence'): Case => ({
  incident,
  severity: 'high',
  approveContainment: false,
  contain: true,
  forensicCidrs: [],
  store: { kind: 'fs', dir },
  targets: {},
});
const stateDir = () => mkdtempSync(join(tmpdir(), 'hf-open-'));

describe('openIncident', () => {
  it('holds the incident lock from open to close: a second opener is refused until then', async () => {
    const dir = stateDir();
    const first = await openIncident({
      mode: 'capture',
      incident: 'IR-OPEN-1',
      kase: kase('IR-OPEN-1'),
      stateDir: dir,
    });
    expect(existsSync(`${first.path}.lock`)).toBe(true);
    await expect(openIncident({ mode: 'release', incident: 'IR-OPEN-1', stateDir: dir })).rejects.toThrow(
      /being captured or released right now/,
    );
    first.journal.append({ type: 'capture.limitation', message: 'x' });
    first.close();
    expect(existsSync(`${first.path}.lock`)).toBe(false);
    const second = await openIncident({ mode: 'release', incident: 'IR-OPEN-1', stateDir: dir });
    expect(second.journal.events).toHaveLength(1);
    second.close();
  });

  it('continues a journal missing here from the store, written under the lock and private', async () => {
    const store = memoryStore();
    const source = join(stateDir(), 'journal.ndjson');
    const elsewhere = Journal.open(source, 'IR-OPEN-2');
    elsewhere.append({ type: 'capture.limitation', message: 'from another machine' });
    elsewhere.close();
    await store.put(`${journalPrefix('IR-OPEN-2')}1.ndjson`, readFileSync(source));
    const dir = stateDir();
    const opened = await openIncident({ mode: 'release', incident: 'IR-OPEN-2', stateDir: dir, store });
    expect(opened.path).toBe(journalPath(dir, 'IR-OPEN-2'));
    expect(opened.journal.events.map((e) => e.type)).toEqual(['capture.limitation']);
    expect(statSync(opened.path).mode & 0o777).toBe(0o600);
    opened.close();
  });

  it('a release of an incident journaled nowhere is refused before anything is written here', async () => {
    const dir = stateDir();
    const attempt = openIncident({ mode: 'release', incident: 'IR-OPEN-3', stateDir: dir, store: memoryStore() });
    await expect(attempt).rejects.toThrow(BadInputError);
    await expect(attempt).rejects.toThrow(/no journal found locally or in the store/);
    expect(existsSync(join(dir, 'IR-OPEN-3'))).toBe(false);
  });

  it('a capture with another store than the journal names is refused and the lock let go', async () => {
    const dir = stateDir();
    const first = await openIncident({
      mode: 'capture',
      incident: 'IR-OPEN-4',
      kase: kase('IR-OPEN-4'),
      stateDir: dir,
    });
    first.journal.append({
      type: 'capture.started',
      captureId: 'c',
      case: kase('IR-OPEN-4'),
      planDigest: 'd',
      operator: {},
      tool: { name: 'holdfast', version: '0' },
      resumed: false,
      steps: 0,
      plannedSteps: [],
    });
    first.close();
    await expect(
      openIncident({ mode: 'capture', incident: 'IR-OPEN-4', kase: kase('IR-OPEN-4', '/srv/other'), stateDir: dir }),
    ).rejects.toThrow(/journaled .* with the store \/srv\/evidence/);
    expect(existsSync(`${first.path}.lock`)).toBe(false);
  });
});
