/**
 * An evidence store in memory for in-process engine tests: write-once like the real stores, hashed
 * through the one hashing stream, and it keeps every version so a test can inspect what was put.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeyExistsError, RemoteError } from '../../src/core/errors.js';
import type { EvidenceStore, StoredObject } from '../../src/core/types.js';
import { HashingStream, toReadable } from '../../src/evidence/hash.js';

export interface MemoryStore extends EvidenceStore {
  /** The bytes at each key, in the order they were put. */
  readonly objects: Map<string, Buffer>;
}

export function memoryStore(): MemoryStore {
  const objects = new Map<string, Buffer>();
  /** Keys being written: a second put of one is refused at once, as a real store's would be. */
  const writing = new Set<string>();
  const putNew = async (key: string, body: Parameters<EvidenceStore['put']>[1], signal?: AbortSignal) => {
    const hasher = new HashingStream();
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        done();
      },
    });
    await pipeline(toReadable(body), hasher, sink, ...(signal ? [{ signal }] : []));
    objects.set(key, Buffer.concat(chunks));
    return { key, sha256: hasher.digest(), size: hasher.size, location: { store: 'memory', key } };
  };
  return {
    description: 'memory://test',
    objects,
    async put(key, body, meta = {}): Promise<StoredObject> {
      if (objects.has(key) || writing.has(key))
        throw new KeyExistsError(`evidence ${key} already exists; refusing to overwrite`, key);
      writing.add(key);
      try {
        return await putNew(key, body, meta.signal);
      } finally {
        writing.delete(key);
      }
    },
    async head(key) {
      const bytes = objects.get(key);
      return bytes ? { key, size: bytes.length } : undefined;
    },
    async get(key) {
      const bytes = objects.get(key);
      if (!bytes) throw new RemoteError(`evidence ${key} is missing`, false);
      return Readable.from([bytes]);
    },
    async list(prefix) {
      return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    async preflight() {
      return { ok: true, problems: [], limitations: [] };
    },
  };
}
