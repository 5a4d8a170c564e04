import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/evidence/canonical-json.js';
import { IntegrityError, InternalError, StateWriteError } from '../../src/core/errors.js';
import type { CaptureEvent } from '../../src/core/events.js';
import { checkJournalChain, GENESIS_HASH, Journal, writeFully } from '../../src/evidence/journal.js';
import { holderIsGone, lockIncident, processStartTime, type LockHolder } from '../../src/engine/incident-lock.js';
import { assertStateDirUsable } from '../../src/engine/state-dir-check.js';
import { deriveJournalState } from '../../src/evidence/journal-state.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'hf-journal-')), 'journal.ndjson');

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], é: 2, Z: { y: 1.5, x: -0 } })).toBe(
      '{"Z":{"x":0,"y":1.5},"a":[true,null,"x"],"b":1,"é":2}',
    );
  });
  it('serialises numbers the ECMAScript way', () => {
    expect(canonicalJson([1e21, 1e-7, 100, 0.1])).toBe('[1e+21,1e-7,100,0.1]');
  });
});

describe('Journal', () => {
  it('chains every line to the one before and survives a reopen', () => {
    const path = tmp();
    const j = Journal.open(path, 'IR-1-2');
    j.append({ type: 'capture.limitation', message: 'one' });
    j.append({ type: 'capture.limitation', message: 'two' });
    j.close();
    const check = checkJournalChain(readFileSync(path, 'utf8'));
    expect(check.ok).toBe(true);
    expect(check.events[0]!.prev).toBe(GENESIS_HASH);
    expect(check.events.map((e) => e.seq)).toEqual([1, 2]);
    const again = Journal.open(path, 'IR-1-2');
    expect(again.events).toHaveLength(2);
    expect(again.append({ type: 'capture.limitation', message: 'three' }).seq).toBe(3);
    again.close();
  });

  it('detects an edited line and refuses to continue a broken journal', () => {
    const path = tmp();
    const j = Journal.open(path, 'IR-1-2');
    j.append({ type: 'capture.limitation', message: 'original' });
    j.append({ type: 'capture.limitation', message: 'next' });
    j.close();
    writeFileSync(path, readFileSync(path, 'utf8').replace('original', 'forged'));
    const check = checkJournalChain(readFileSync(path, 'utf8'));
    expect(check.ok).toBe(false);
    expect(check.problems.join()).toContain('line 2: prev hash');
    expect(() => Journal.open(path, 'IR-1-2')).toThrow(IntegrityError);
  });

  it('drops a torn last line left by a crash', () => {
    const path = tmp();
    const j = Journal.open(path, 'IR-1-2');
    j.append({ type: 'capture.limitation', message: 'kept' });
    j.close();
    appendFileSync(path, '{"seq":2,"type":"capt');
    const reopened = Journal.open(path, 'IR-1-2');
    expect(reopened.events).toHaveLength(1);
    // Reported, and the torn bytes kept aside, never silently used or destroyed.
    expect(reopened.tornTail?.bytes).toBe('{"seq":2,"type":"capt'.length);
    expect(readFileSync(reopened.tornTail!.keptAt!, 'utf8')).toBe('{"seq":2,"type":"capt');
    reopened.close();
    expect(checkJournalChain(readFileSync(path, 'utf8')).ok).toBe(true);
    expect(Journal.open(path, 'IR-1-2').tornTail).toBeUndefined();
  });

  it('refuses an append after close instead of keeping the event in memory only', () => {
    const path = tmp();
    const j = Journal.open(path, 'IR-1-2');
    j.append({ type: 'capture.limitation', message: 'one' });
    j.close();
    expect(() => j.append({ type: 'capture.limitation', message: 'lost?' })).toThrow(InternalError);
    expect(j.events).toHaveLength(1);
    expect(checkJournalChain(readFileSync(path, 'utf8')).events).toHaveLength(1);
  });

  it('creates the journal readable by its owner only', () => {
    const path = tmp();
    Journal.open(path, 'IR-1-2').close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('writes a whole line through short writes, and fails on a write that makes no progress', () => {
    const written: number[] = [];
    const shortWrites = (_fd: number, _buf: Buffer, _off: number, length: number) => {
      const n = Math.min(3, length);
      written.push(n);
      return n;
    };
    writeFully(0, Buffer.from('0123456789'), shortWrites);
    expect(written).toEqual([3, 3, 3, 1]);
    expect(() => writeFully(0, Buffer.from('0123'), () => 0)).toThrow(/short write: 0 of 4/);
  });
});

describe('incident lock', () => {
  it('writes its holder whole (pid, host, start time), 0600, and refuses a live holder', () => {
    const path = tmp();
    const unlock = lockIncident(path, 'IR-1-2');
    const holder = JSON.parse(readFileSync(`${path}.lock`, 'utf8')) as LockHolder;
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(statSync(`${path}.lock`).mode & 0o777).toBe(0o600);
    unlock();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('takes over a lock whose process is gone or whose pid now belongs to a later process', () => {
    const path = tmp();
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: dead, host: hostname(), startTime: '1' }));
    lockIncident(path, 'IR-1-2')();
    // Our own pid with another start time: the pid was reused, the holder is gone.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), startTime: 'earlier' }));
    expect(holderIsGone({ pid: process.pid, host: hostname(), startTime: 'earlier' })).toBe(true);
    lockIncident(path, 'IR-1-2')();
  });

  it('refuses a lock whose holder still runs on this host', () => {
    const path = tmp();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
    try {
      const holder = { pid: child.pid!, host: hostname(), startTime: processStartTime(child.pid!) };
      writeFileSync(`${path}.lock`, JSON.stringify(holder));
      expect(() => lockIncident(path, 'IR-1-2')).toThrow(new RegExp(`by process ${child.pid}`));
    } finally {
      child.kill();
    }
  });

  it('never takes over a lock held on another host', () => {
    const path = tmp();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', startTime: '1' }));
    expect(() => lockIncident(path, 'IR-1-2')).toThrow(/elsewhere/);
  });
});

describe('state directory check', () => {
  it('names the path and the reason when the directory cannot be made', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-state-'));
    writeFileSync(join(dir, 'file'), 'x');
    const target = join(dir, 'file', 'state');
    expect(() => assertStateDirUsable(target)).toThrow(StateWriteError);
    expect(() => assertStateDirUsable(target)).toThrow(new RegExp(`${target}.*ENOTDIR`));
  });

  it('creates a missing directory 0700 and leaves no probe behind', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hf-state-')), 'new', 'state');
    assertStateDirUsable(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('deriveJournalState after a release', () => {
  const change = {
    id: 'ec2:isolate/i-1/eni-1/groups',
    stepId: 'ec2:isolate/i-1',
    provider: 'ec2',
    resource: 'eni-1',
    attribute: 'groups',
    before: ['sg-a'],
    after: ['sg-iso'],
    at: '2026-12-03T05:00:01Z',
    reversible: true,
  };
  const events = [
    { type: 'step.started', stepId: change.stepId },
    { type: 'change.recorded', stepId: change.stepId, change },
    { type: 'step.done', stepId: change.stepId, outputs: {} },
    { type: 'change.released', changeId: change.id, resource: 'eni-1', attribute: 'groups', restored: true },
  ].map((e, i) => ({
    ...e,
    seq: i + 1,
    at: `2026-12-03T05:00:0${i}Z`,
    prev: '',
    incident: 'IR-1-2',
  })) as unknown as CaptureEvent[];

  it('marks the step whose change was undone, so a new capture runs it again', () => {
    const state = deriveJournalState(events);
    expect(state.steps.get(change.stepId)?.status).toBe('done');
    expect([...state.releasedSteps.keys()]).toEqual([change.stepId]);
    expect(state.released.get(change.id)?.restored).toBe(true);
  });

  it('a change made again after the release is released again next time; the re-run step is contained again', () => {
    const more = [
      { type: 'step.started', stepId: change.stepId },
      { type: 'change.recorded', stepId: change.stepId, change: { ...change, at: '2026-12-03T06:00:00Z' } },
      { type: 'step.done', stepId: change.stepId, outputs: {} },
    ].map((e, i) => ({
      ...e,
      seq: 10 + i,
      at: `2026-12-03T06:00:0${i}Z`,
      prev: '',
      incident: 'IR-1-2',
    })) as unknown as CaptureEvent[];
    const state = deriveJournalState([...events, ...more]);
    expect(state.releasedSteps.size).toBe(0);
    expect(state.released.has(change.id)).toBe(false);
  });

  it('a release that could not restore leaves the step done', () => {
    const refused = events.map((e) => (e.type === 'change.released' ? { ...e, restored: false } : e));
    expect(deriveJournalState(refused).releasedSteps.size).toBe(0);
  });
});
