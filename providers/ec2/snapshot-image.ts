/**
 * The SHA-256 of an EBS snapshot's whole volume image, read through the EBS direct APIs: written
 * blocks from GetSnapshotBlock (each checked against the checksum EBS returns with it), unwritten
 * blocks as zeros, hashed in index order. Memory stays at about `concurrency` blocks however large
 * the volume: block lists are read a page at a time and blocks are fetched in a bounded window.
 */
import { createHash } from 'node:crypto';
import { IntegrityError } from '../../src/core/errors.js';

/** What the reader needs from EBS (client.ts provides it; tests may too). */
export interface SnapshotBlockApi {
  list(next?: string): Promise<{
    volumeSizeGiB: number;
    blockSize: number;
    blocks: { index: number; token: string }[];
    next?: string;
  }>;
  get(index: number, token: string): Promise<{ data: Buffer; checksum?: string; algorithm?: string }>;
}

/** Blocks fetched at once: EBS direct API throughput scales with parallel GetSnapshotBlock calls. */
export const SNAPSHOT_READ_CONCURRENCY = 8;

const BYTES_PER_GIB = 1024 ** 3;
/** Zeros are hashed from one shared buffer of this size, never allocated per block. */
const ZERO_CHUNK_BYTES = 1024 * 1024;

export interface SnapshotImageHash {
  sha256: string;
  /** Bytes in the image: the volume size. */
  size: number;
  blockSize: number;
  writtenBlocks: number;
}

/** Hash the image of `snapshotId`; throws IntegrityError naming the block whose bytes do not match EBS's checksum. */
export async function hashSnapshotImage(
  api: SnapshotBlockApi,
  snapshotId: string,
  options: {
    concurrency?: number;
    signal?: AbortSignal;
    /** Called as the image is hashed: bytes of the image done so far (zeros included), of `total`. */
    onProgress?: (hashed: number, total: number) => void;
  } = {},
): Promise<SnapshotImageHash> {
  const window = Math.max(1, options.concurrency ?? SNAPSHOT_READ_CONCURRENCY);
  const hash = createHash('sha256');
  const zeros = Buffer.alloc(ZERO_CHUNK_BYTES);
  let hashed = 0;
  let size = 0;
  const update = (bytes: Buffer) => {
    hash.update(bytes);
    hashed += bytes.length;
    options.onProgress?.(hashed, size);
  };
  const hashZeros = (bytes: number) => {
    for (let left = bytes; left > 0; left -= ZERO_CHUNK_BYTES)
      update(zeros.subarray(0, Math.min(left, ZERO_CHUNK_BYTES)));
  };
  let page = await api.list();
  const { blockSize, volumeSizeGiB } = page;
  if (!blockSize || !volumeSizeGiB)
    throw new IntegrityError(`snapshot ${snapshotId}: EBS reported no block or volume size`);
  size = volumeSizeGiB * BYTES_PER_GIB;
  const totalBlocks = Math.ceil(size / blockSize);
  let nextIndex = 0; // the first block not yet hashed
  let written = 0;
  const fetch = async (b: { index: number; token: string }) => {
    const block = await api.get(b.index, b.token);
    if (block.algorithm && block.algorithm !== 'SHA256')
      throw new IntegrityError(
        `snapshot ${snapshotId} block ${b.index}: unexpected checksum algorithm ${block.algorithm}`,
      );
    const actual = createHash('sha256').update(block.data).digest('base64');
    if (!block.checksum || block.checksum !== actual)
      throw new IntegrityError(
        `snapshot ${snapshotId} block ${b.index}: bytes hash to ${actual}, EBS says ${block.checksum ?? 'nothing'}`,
      );
    if (block.data.length > blockSize)
      throw new IntegrityError(
        `snapshot ${snapshotId} block ${b.index}: ${block.data.length} bytes, block size ${blockSize}`,
      );
    return block.data;
  };
  for (;;) {
    options.signal?.throwIfAborted();
    const blocks = [...page.blocks].sort((a, b) => a.index - b.index);
    // A bounded window of fetches in flight, consumed in index order.
    const inFlight: { index: number; data: Promise<Buffer> }[] = [];
    let cursor = 0;
    const fill = () => {
      while (inFlight.length < window && cursor < blocks.length) {
        const b = blocks[cursor++]!;
        const data = fetch(b);
        data.catch(() => {}); // surfaced when awaited in order
        inFlight.push({ index: b.index, data });
      }
    };
    fill();
    while (inFlight.length) {
      const next = inFlight.shift()!;
      if (next.index < nextIndex || next.index >= totalBlocks)
        throw new IntegrityError(`snapshot ${snapshotId}: block index ${next.index} out of order or beyond the volume`);
      hashZeros((next.index - nextIndex) * blockSize);
      const data = await next.data;
      update(data);
      hashZeros(blockSize - data.length); // a short block is padded, as the volume reads it
      nextIndex = next.index + 1;
      written++;
      fill();
    }
    if (!page.next) break;
    page = await api.list(page.next);
  }
  hashZeros(size - nextIndex * blockSize);
  return { sha256: hash.digest('hex'), size, blockSize, writtenBlocks: written };
}
