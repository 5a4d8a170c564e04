import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findIncidentStore, recordIncidentStore } from '../../src/engine/incident-store.js';
import { storeObjectLocation } from '../../src/evidence/store-keys.js';
import { chooseStateDir, journalPath } from '../../src/engine/state-dir.js';

describe('state dir', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'hf-state-'));

  it('defaults to the XDG state home, whatever the current directory', () => {
    expect(chooseStateDir(undefined, { HOME: '/home/r' }, cwd)).toEqual({
      dir: '/home/r/.local/state/holdfast',
      source: 'xdg',
    });
    expect(chooseStateDir(undefined, { HOME: '/home/r', XDG_STATE_HOME: '/var/x' }, cwd).dir).toBe('/var/x/holdfast');
    // The XDG spec says a relative value is ignored.
    expect(chooseStateDir(undefined, { HOME: '/home/r', XDG_STATE_HOME: 'rel' }, cwd).dir).toBe(
      '/home/r/.local/state/holdfast',
    );
  });

  it('prefers --state-dir, then HOLDFAST_STATE_DIR, then an existing ./.holdfast; all absolute', () => {
    const env = { HOME: '/home/r', HOLDFAST_STATE_DIR: 'from-env' };
    expect(chooseStateDir('opt', env, cwd)).toEqual({ dir: join(cwd, 'opt'), source: 'option' });
    expect(chooseStateDir(undefined, env, cwd)).toEqual({ dir: join(cwd, 'from-env'), source: 'env' });
    const legacyCwd = mkdtempSync(join(tmpdir(), 'hf-legacy-'));
    mkdirSync(join(legacyCwd, '.holdfast'));
    expect(chooseStateDir(undefined, { HOME: '/home/r' }, legacyCwd)).toEqual({
      dir: join(legacyCwd, '.holdfast'),
      source: 'legacy',
    });
  });
});

describe('incident store record', () => {
  it('records the store beside the journal and finds it again', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hf-rec-'));
    expect(findIncidentStore(stateDir, 'IR-REC-1')).toBeUndefined();
    recordIncidentStore(stateDir, 'IR-REC-1', { kind: 'fs', dir: '/srv/es' });
    expect(findIncidentStore(stateDir, 'IR-REC-1')).toMatchObject({
      spec: { kind: 'fs', dir: '/srv/es' },
      source: 'record',
    });
    const s3 = {
      kind: 's3',
      bucket: 'ir-evidence',
      prefix: 'cases',
      retainDays: 365,
      retentionMode: 'COMPLIANCE',
      legalHold: false,
      allowUnlocked: false,
    } as const;
    recordIncidentStore(stateDir, 'IR-REC-1', s3, 'eu-west-1');
    expect(findIncidentStore(stateDir, 'IR-REC-1')).toMatchObject({ spec: s3, region: 'eu-west-1' });
  });

  it('falls back to the store named in an older local journal', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hf-rec-'));
    const path = journalPath(stateDir, 'IR-OLD-1');
    mkdirSync(join(stateDir, 'IR-OLD-1'));
    writeFileSync(
      path,
      `${JSON.stringify({ type: 'capture.started', case: { store: { kind: 'fs', dir: '/old/es' }, region: 'us-west-2' } })}\n`,
    );
    expect(findIncidentStore(stateDir, 'IR-OLD-1')).toEqual({
      spec: { kind: 'fs', dir: '/old/es' },
      region: 'us-west-2',
      source: 'journal',
      path,
    });
  });

  it('names stored objects by absolute path or full s3:// URI', () => {
    expect(storeObjectLocation({ kind: 'fs', dir: '/srv/es' }, 'IR-1/manifest.json')).toBe(
      '/srv/es/IR-1/manifest.json',
    );
    expect(
      storeObjectLocation(
        {
          kind: 's3',
          bucket: 'b',
          prefix: 'p',
          retainDays: 1,
          retentionMode: 'COMPLIANCE',
          legalHold: false,
          allowUnlocked: false,
        } as never,
        'IR-1/m.json',
      ),
    ).toBe('s3://b/p/IR-1/m.json');
  });
});
