/**
 * Evidence store on S3: streamed uploads hashed by holdfast (S3's own checksums are transport
 * integrity only), never overwriting (`IfNoneMatch: '*'`), Object Lock retention and optional
 * legal hold on every object, reads back by VersionId.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import {
  BadInputError,
  KeyExistsError,
  PermissionError,
  RemoteError,
  type HoldfastError,
} from '../../src/core/errors.js';
import { awsHoldfastError, classifyAwsError, isConflict } from '../../src/aws/errors.js';
import { HashingStream, toReadable } from '../../src/evidence/hash.js';
import { describeStoreSpec } from '../../src/evidence/store-keys.js';
import type { AwsClientConfig } from '../../src/aws/config.js';
import type { EvidenceStore, StoreSpec, StoredObject } from '../../src/core/types.js';
import type { S3Client } from './client.js';

/** The least-privilege policy for writing evidence to an S3 store (listed by `evidence providers`). */
export const S3_STORE_POLICY = 'policies/aws/s3-store.json';

/** The S3 SDK is loaded only when an S3 store is used. */
const sdk = () => import('./client.js');

const MS_PER_DAY = 86_400_000;

type S3Spec = Extract<StoreSpec, { kind: 's3' }>;

/**
 * A failed call on the store's bucket in words that name the place and what to do: a bucket these
 * credentials cannot see is bad input (the `store` field), a denial names the policy that grants the
 * call; anything else is the kit's translation. A missing key stays the caller's business.
 */
export function bucketFailure(error: unknown, bucket: string, region: string): HoldfastError {
  const c = classifyAwsError(error);
  const where = `s3://${bucket} (region ${region})`;
  if (c.code === 'NoSuchBucket' || (c.kind === 'not-found' && c.code !== 'NoSuchKey' && c.code !== 'NoSuchVersion'))
    return new BadInputError(
      {
        field: 'store',
        message: `${where}: no such bucket, or not one these credentials can see; create it (with Object Lock) or name an existing one`,
        continues: true,
      },
      { cause: error },
    );
  if (c.kind === 'access-denied')
    return new PermissionError(
      `${where}: access denied${c.deniedAction ? ` to ${c.deniedAction}` : ''} for these credentials; grant them ${S3_STORE_POLICY} (verify: policies/aws/verify.json) on this bucket, or use the account that owns it`,
      c.deniedAction ?? (c.code || 's3'),
      S3_STORE_POLICY,
      { cause: error },
    );
  return awsHoldfastError(error);
}

/** Create the S3 evidence store; `client` may be injected (tests, library callers). */
export function createS3Store(spec: S3Spec, config: AwsClientConfig, injected?: S3Client): EvidenceStore {
  let clientPromise: Promise<S3Client> | undefined;
  const client = () =>
    (clientPromise ??= injected ? Promise.resolve(injected) : sdk().then((m) => m.createS3Client(config)));
  const fullKey = (key: string) => (spec.prefix ? `${spec.prefix}/${key}` : key);
  let lockChecked: Promise<boolean> | undefined;
  const bucketLocked = () =>
    (lockChecked ??= Promise.all([sdk(), client()])
      .then(([m, c]) => m.describeBucketProtection(c, spec.bucket))
      .then((p) => p.objectLockEnabled && p.versioning === 'Enabled'));

  /** A read on the bucket; its failure named by bucketFailure (a missing key is the call's own answer). */
  const onBucket = async <T>(call: (m: Awaited<ReturnType<typeof sdk>>, c: S3Client) => Promise<T>): Promise<T> => {
    const [m, c] = await Promise.all([sdk(), client()]);
    try {
      return await call(m, c);
    } catch (error) {
      if (classifyAwsError(error).code === 'NoSuchKey') throw error;
      throw bucketFailure(error, spec.bucket, config.region);
    }
  };
  const retainUntilFromNow = () => new Date(Date.now() + spec.retainDays * MS_PER_DAY);

  return {
    description: describeStoreSpec(spec),

    async put(key, body, meta = {}): Promise<StoredObject> {
      const Key = fullKey(key);
      const locked = await bucketLocked();
      if (!locked && !spec.allowUnlocked) {
        throw new RemoteError(
          `s3://${spec.bucket} has no Object Lock; refusing to store evidence (use --allow-unlocked-store to accept)`,
          false,
        );
      }
      const [m, c] = await Promise.all([sdk(), client()]);
      const hasher = new HashingStream();
      const tee = new PassThrough();
      // The signal stops the body too: a source that stalls would otherwise hold the upload open.
      const piping = pipeline(toReadable(body), hasher, tee, ...(meta.signal ? [{ signal: meta.signal }] : []));
      const retainUntil = new Date(Date.now() + spec.retainDays * MS_PER_DAY);
      try {
        const [, uploaded] = await Promise.all([
          piping,
          m.uploadObject(
            c,
            {
              Bucket: spec.bucket,
              Key,
              Body: tee,
              ...(meta.contentType ? { ContentType: meta.contentType } : {}),
              ...(locked ? { ObjectLockMode: spec.retentionMode, ObjectLockRetainUntilDate: retainUntil } : {}),
              ...(locked && spec.legalHold ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}),
            },
            meta.signal,
          ),
        ]);
        const lock =
          locked && uploaded.versionId
            ? await m.confirmObjectLock(c, spec.bucket, Key, uploaded.versionId, {
                mode: spec.retentionMode,
                retainUntil,
                legalHold: spec.legalHold,
              })
            : undefined;
        if (locked && !lock?.lockMode)
          throw new RemoteError(
            `s3://${spec.bucket}/${Key} was stored but its Object Lock could not be confirmed`,
            true,
          );
        return {
          key,
          ...(uploaded.versionId ? { versionId: uploaded.versionId } : {}),
          sha256: hasher.digest(),
          size: hasher.size,
          location: {
            store: 's3',
            bucket: spec.bucket,
            key: Key,
            ...(uploaded.versionId ? { versionId: uploaded.versionId } : {}),
          },
          preservation: lock
            ? { lockMode: lock.lockMode ?? 'none', retainUntil: lock.retainUntil ?? null, legalHold: lock.legalHold }
            : { lockMode: 'none' },
        };
      } catch (error) {
        tee.destroy();
        // If-None-Match: a precondition failure (or a conflicting concurrent write) means the key exists.
        if (isConflict(error))
          throw new KeyExistsError(
            `evidence ${Key} already exists in s3://${spec.bucket}; refusing to overwrite`,
            key,
            {
              cause: error,
            },
          );
        throw bucketFailure(error, spec.bucket, config.region);
      }
    },

    async head(key) {
      const found = await onBucket((m, c) => m.headObject(c, spec.bucket, fullKey(key)));
      return found ? { key, size: found.size, ...(found.versionId ? { versionId: found.versionId } : {}) } : undefined;
    },

    async get(key, versionId): Promise<Readable> {
      return onBucket((m, c) => m.getObject(c, spec.bucket, fullKey(key), versionId));
    },

    async protectionOf(key, versionId) {
      const found = await (await sdk()).headObject(await client(), spec.bucket, fullKey(key), versionId);
      return found
        ? {
            lockMode: found.lockMode ?? 'none',
            retainUntil: found.retainUntil ?? null,
            legalHold: found.legalHold === 'ON',
          }
        : undefined;
    },

    async list(prefix) {
      const base = spec.prefix ? `${spec.prefix}/` : '';
      return (await onBucket((m, c) => m.listKeys(c, spec.bucket, base + prefix)))
        .map((k) => k.slice(base.length))
        .sort();
    },

    remote: {
      async readUrl(key, versionId, expiresInSeconds) {
        return (await sdk()).presignGet(await client(), spec.bucket, fullKey(key), versionId, expiresInSeconds);
      },
      async writeUrls(key, { parts, expiresInSeconds, contentType }) {
        const [m, c, locked] = await Promise.all([sdk(), client(), bucketLocked()]);
        if (!locked && !spec.allowUnlocked) {
          throw new RemoteError(
            `s3://${spec.bucket} has no Object Lock; refusing to let a host store evidence there (use --allow-unlocked-store to accept)`,
            false,
          );
        }
        // No lock headers on what a host sends: S3 then wants a Content-MD5 or checksum the URL cannot
        // carry. The version is locked by `seal` once holdfast has read it (the bucket keeps versions).
        const params = { Bucket: spec.bucket, Key: fullKey(key), ContentType: contentType };
        if (parts <= 1) {
          const { url, headers } = await m.presignPut(c, params, expiresInSeconds);
          return { urls: [url], headers };
        }
        const { uploadId, urls } = await m.presignParts(c, params, parts, expiresInSeconds);
        return { urls, headers: {}, uploadId };
      },
      async complete(key, uploadId) {
        return (await sdk()).completeParts(await client(), spec.bucket, fullKey(key), uploadId);
      },
      async seal(key, versionId) {
        const [m, c, locked] = await Promise.all([sdk(), client(), bucketLocked()]);
        const Key = fullKey(key);
        const lock =
          locked && versionId
            ? await m.confirmObjectLock(c, spec.bucket, Key, versionId, {
                mode: spec.retentionMode,
                retainUntil: retainUntilFromNow(),
                legalHold: spec.legalHold,
              })
            : undefined;
        return {
          location: { store: 's3', bucket: spec.bucket, key: Key, ...(versionId ? { versionId } : {}) },
          preservation: lock
            ? { lockMode: lock.lockMode ?? 'none', retainUntil: lock.retainUntil ?? null, legalHold: lock.legalHold }
            : { lockMode: 'none' },
        };
      },
    },

    async preflight() {
      try {
        const p = await (await sdk()).describeBucketProtection(await client(), spec.bucket);
        const locked = p.objectLockEnabled && p.versioning === 'Enabled';
        if (locked) return { ok: true, problems: [], limitations: [] };
        const text = `s3://${spec.bucket} has no Object Lock (versioning ${p.versioning ?? 'off'}): stored evidence can be deleted or replaced by anyone with access`;
        return spec.allowUnlocked
          ? { ok: true, problems: [], limitations: [text] }
          : {
              ok: false,
              problems: [`${text}; enable Object Lock or accept it with \`allowUnlockedStore\``],
              limitations: [],
            };
      } catch (error) {
        return {
          ok: false,
          problems: [preflightProblem(bucketFailure(error, spec.bucket, config.region), spec.bucket)],
          limitations: [],
        };
      }
    },
  };
}

/** A store problem begins with the store's location (the `store` field's value); the failure's own words follow. */
function preflightProblem(failure: HoldfastError, bucket: string): string {
  const text = failure instanceof BadInputError ? (failure.problems[0]?.message ?? failure.message) : failure.message;
  return text.startsWith(`s3://${bucket}`) ? text : `s3://${bucket}: ${text}`;
}
