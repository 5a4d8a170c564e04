/**
 * Evidence store on a local directory, the embedded default. Write-once: a key that exists is
 * refused, bytes land in a temporary name and are linked into place only when complete, and
 * finished files are made read-only.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { chmod, link, readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { InternalError, KeyExistsError, RemoteError } from '../../src/core/errors.js';
import { HashingStream, toReadable } from '../../src/evidence/hash.js';
import type { EvidenceStore, StoredObject } from '../../src/core/types.js';

const READ_ONLY_MODE = 0o444;

/** Create a write-once evidence store rooted at `dir`. */
export function createFsStore(dir: string): EvidenceStore {
  const root = resolve(dir);
  const pathOf = (key: string): string => {
    const path = resolve(root, key);
    if (!path.startsWith(root + sep) || key.includes('..'))
      throw new InternalError(`store key escapes the store: ${key}`);
    return path;
  };

  return {
    description: `file://${root}`,

    async put(key, body, meta = {}): Promise<StoredObject> {
      const path = pathOf(key);
      if (existsSync(path))
        throw new KeyExistsError(`evidence ${key} already exists in ${root}; refusing to overwrite`, key);
      mkdirSync(dirname(path), { recursive: true });
      // A failed or interrupted write stays behind as *.partial, never at the evidence key.
      const partial = `${path}.${randomBytes(4).toString('hex')}.partial`;
      const hasher = new HashingStream();
      await pipeline(
        toReadable(body),
        hasher,
        createWriteStream(partial, { flags: 'wx', mode: 0o600 }),
        ...(meta.signal ? [{ signal: meta.signal }] : []),
      );
      try {
        await link(partial, path); // link fails if the key appeared meanwhile: no clobbering
      } catch (error) {
        // Another writer placed the key between the check above and here.
        if ((error as NodeJS.ErrnoException).code === 'EEXIST')
          throw new KeyExistsError(`evidence ${key} already exists in ${root}; refusing to overwrite`, key, {
            cause: error,
          });
        throw new RemoteError(`could not place evidence ${key}: ${(error as Error).message}`, false, { cause: error });
      }
      await chmod(path, READ_ONLY_MODE);
      // Drops only the temporary second name of the same inode; the evidence stays at `path`.
      await unlink(partial);
      return { key, sha256: hasher.digest(), size: hasher.size, location: { store: 'fs', path } };
    },

    async head(key) {
      const path = pathOf(key);
      if (!existsSync(path)) return undefined;
      return { key, size: statSync(path).size };
    },

    async get(key): Promise<Readable> {
      const path = pathOf(key);
      if (!existsSync(path)) throw new RemoteError(`evidence ${key} is missing from ${root}`, false);
      return createReadStream(path);
    },

    async list(prefix) {
      const base = existsSync(root) ? root : undefined;
      if (!base) return [];
      const out: string[] = [];
      const walk = async (d: string) => {
        for (const entry of await readdir(d, { withFileTypes: true })) {
          const full = join(d, entry.name);
          if (entry.isDirectory()) await walk(full);
          else if (!entry.name.endsWith('.partial')) {
            const key = relative(root, full).split(sep).join('/');
            if (key.startsWith(prefix)) out.push(key);
          }
        }
      };
      await walk(base);
      return out.sort();
    },

    async preflight() {
      // Dry runs create nothing: check that the nearest existing ancestor is writable.
      let probe = root;
      while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
      try {
        if (!(await stat(probe)).isDirectory())
          return { ok: false, problems: [`${root}: ${probe} is not a directory`], limitations: [] };
        accessSync(probe, constants.W_OK);
        return { ok: true, problems: [], limitations: [localLimitation(root)] };
      } catch (error) {
        return {
          ok: false,
          problems: [`${root}: not writable (${(error as Error).message})`],
          limitations: [],
        };
      }
    },
  };
}

function localLimitation(root: string): string {
  return `evidence store is a local directory (${root}): files are read-only and never overwritten, but nothing stops an administrator from deleting them; copy them to a store with Object Lock`;
}
