/**
 * One contract every evidence store keeps (issue 19): write once (a second put of a key throws
 * KeyExistsError and the first bytes stay, also when two puts race), reads back what was hashed
 * (by version where the store has versions), lists only finished keys under a prefix, says whether
 * a key exists, and never shows a torn write (a body that fails or an upload aborted midway leaves
 * nothing at the key, and the key can be written afterwards). Run against each store by its tier:
 * fs-store and the in-memory test store in the unit tier, s3-store against moto in integration.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KeyExistsError } from '../../src/core/errors.js';
import type { EvidenceStore } from '../../src/core/types.js';
import { hashReadable } from '../../src/evidence/hash.js';

export interface StoreUnderTest {
  store: EvidenceStore;
  /** Whether each put returns a versionId that `get` reads back. */
  versions: boolean;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A body that sends `before` bytes and then fails (a dump tool that dies halfway). */
function failingBody(before: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(before);
      } else this.destroy(new Error('the source died halfway'));
    },
  });
}

/** A body that sends `chunk` and then waits forever (until the put is aborted). */
function stalledBody(chunk: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(chunk);
      }
    },
  });
}

/** Define the contract suite for one store; `make` gives a fresh, empty store for each test. */
export function storeContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`evidence store contract: ${name}`, () => {
    const key = (label: string) => `IR-CONTRACT-${randomBytes(3).toString('hex')}/artifacts/${label}.bin`;

    it('put hashes what it stores; get reads those bytes back (by version where the store has versions)', async () => {
      const { store, versions } = await make();
      const bytes = randomBytes(300_000);
      const k = key('a');
      const stored = await store.put(k, Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
      expect(stored).toMatchObject({ key: k, sha256: sha256(bytes), size: bytes.length });
      expect(Boolean(stored.versionId)).toBe(versions);
      expect((await hashReadable(await store.get(k, stored.versionId))).sha256).toBe(sha256(bytes));
      expect((await hashReadable(await store.get(k))).sha256).toBe(sha256(bytes));
    });

    it('put-if-absent: a second put of a key throws KeyExistsError naming the key; the first bytes stay', async () => {
      const { store } = await make();
      const k = key('once');
      const first = await store.put(k, 'first');
      const again = await store.put(k, 'second').catch((e: unknown) => e);
      expect(again).toBeInstanceOf(KeyExistsError);
      expect((again as KeyExistsError).key).toBe(k);
      expect((await hashReadable(await store.get(k))).sha256).toBe(first.sha256);
      expect(await store.head(k)).toMatchObject({ key: k, size: 5 });
    });

    it('two puts racing for one key: exactly one is stored, the other throws KeyExistsError', async () => {
      const { store } = await make();
      const k = key('race');
      const bodies = [randomBytes(200_000), randomBytes(200_000)];
      const results = await Promise.allSettled(bodies.map((b) => store.put(k, Readable.from([b]))));
      const stored = results.filter((r) => r.status === 'fulfilled');
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(stored).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(KeyExistsError);
      const winner = (stored[0] as PromiseFulfilledResult<{ sha256: string }>).value.sha256;
      expect((await hashReadable(await store.get(k))).sha256).toBe(winner);
    });

    it('key exists: head says undefined for a missing key and the size (and version) of a stored one', async () => {
      const { store, versions } = await make();
      const k = key('head');
      expect(await store.head(k)).toBeUndefined();
      const stored = await store.put(k, Buffer.from('twelve bytes'));
      const head = await store.head(k);
      expect(head).toMatchObject({ key: k, size: 12 });
      if (versions) expect(head?.versionId).toBe(stored.versionId);
      await expect(store.get(key('never-put'))).rejects.toThrow();
    });

    it('listing: every finished key under the prefix, sorted, nothing outside it', async () => {
      const { store } = await make();
      const incident = `IR-LIST-${randomBytes(3).toString('hex')}`;
      const keys = [`${incident}/journal/b.ndjson`, `${incident}/artifacts/x/a.bin`, `${incident}/manifest/m.json`];
      for (const k of keys) await store.put(k, k);
      await store.put(`${incident}-other/journal/c.ndjson`, 'not ours');
      expect(await store.list(`${incident}/`)).toEqual([...keys].sort());
      expect(await store.list(`${incident}/artifacts/`)).toEqual([`${incident}/artifacts/x/a.bin`]);
      expect(await store.list(`${incident}/nothing/`)).toEqual([]);
    });

    it('no torn write: a body failing midway leaves nothing at the key, and the key can be written after', async () => {
      const { store } = await make();
      const k = key('torn');
      await expect(store.put(k, failingBody(randomBytes(70_000)))).rejects.toThrow();
      expect(await store.head(k)).toBeUndefined();
      expect(await store.list(k.slice(0, k.lastIndexOf('/') + 1))).toEqual([]);
      const stored = await store.put(k, 'whole');
      expect((await hashReadable(await store.get(k))).sha256).toBe(stored.sha256);
    });

    it('no torn write: an upload aborted midway (Ctrl-C) leaves nothing at the key', async () => {
      const { store } = await make();
      const k = key('aborted');
      const controller = new AbortController();
      const putting = store.put(k, stalledBody(randomBytes(70_000)), { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('SIGINT')), 200);
      await expect(putting).rejects.toThrow();
      expect(await store.head(k)).toBeUndefined();
      expect(await store.list(k.slice(0, k.lastIndexOf('/') + 1))).toEqual([]);
    });
  });
}
