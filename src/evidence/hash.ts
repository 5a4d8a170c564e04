/**
 * The one place evidence bytes are hashed: a pass-through transform that computes SHA-256 and
 * counts bytes while the artifact streams to the store.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Pass-through that hashes; read `digest()` and `size` after the stream has finished. */
export class HashingStream extends Transform {
  #hash: Hash = createHash('sha256');
  #hex: string | undefined;
  size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.#hex = this.#hash.digest('hex');
    done();
  }

  /** Hex SHA-256; only valid once the source ended without error. */
  digest(): string {
    if (this.#hex === undefined) throw new Error('hash read before the stream finished');
    return this.#hex;
  }
}

/** Turn a body into a stream; strings and buffers become one-chunk streams. */
export function toReadable(body: Readable | Buffer | string): Readable {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return Readable.from([Buffer.from(body)]);
  return body;
}

/** Hash a whole stream (used by verify): SHA-256 and size, in constant memory. */
export async function hashReadable(source: Readable): Promise<{ sha256: string; size: number }> {
  const hasher = new HashingStream();
  await pipeline(source, hasher, async (chunks: AsyncIterable<Buffer>) => {
    for await (const _ of chunks) {
      // drain: the hash is all we need
    }
  });
  return { sha256: hasher.digest(), size: hasher.size };
}
