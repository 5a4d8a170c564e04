/** The only file that imports the S3 SDK. Clients are guarded and can be injected. */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { AwsClientConfig } from '../../src/aws/config.js';
import { isNotFound } from '../../src/aws/errors.js';
import { guardAwsClient } from '../../src/aws/guard-client.js';

export { S3Client };

declare module '../../src/core/types.js' {
  interface Clients {
    /** The S3 client of the evidence store (the caller's own credentials, never an assumed role). */
    's3-store'?: S3Client;
  }
}

/** Build a guarded S3 client from holdfast's AWS config. */
export function createS3Client(config: AwsClientConfig): S3Client {
  return guardAwsClient(new S3Client(config as S3ClientConfig));
}

/** Part size for streamed uploads: explicit, since the 5 MiB default caps unknown-length bodies near 49 GiB. */
export const UPLOAD_PART_SIZE_BYTES = 16 * 1024 * 1024;
/** Parts in flight at once; memory use is about this × part size. */
export const UPLOAD_QUEUE_SIZE = 2;

export interface PutParams {
  Bucket: string;
  Key: string;
  Body: Readable;
  ContentType?: string;
  ObjectLockMode?: 'COMPLIANCE' | 'GOVERNANCE';
  ObjectLockRetainUntilDate?: Date;
  ObjectLockLegalHoldStatus?: 'ON';
}

/** Streamed, never-overwriting upload; returns the VersionId S3 assigned. */
export async function uploadObject(
  client: S3Client,
  params: PutParams,
  signal?: AbortSignal,
): Promise<{ versionId?: string }> {
  const upload = new Upload({
    client,
    // IfNoneMatch makes S3 refuse an existing key (on PutObject and on CompleteMultipartUpload).
    params: { ...params, IfNoneMatch: '*', ChecksumAlgorithm: 'SHA256' },
    partSize: UPLOAD_PART_SIZE_BYTES,
    queueSize: UPLOAD_QUEUE_SIZE,
    // Aborting would delete uploaded parts; the guard refuses it anyway.
    leavePartsOnError: true,
    ...(signal ? { abortSignal: signal as never } : {}),
  });
  const result = (await upload.done()) as { VersionId?: string };
  return result.VersionId ? { versionId: result.VersionId } : {};
}

/**
 * Make sure a stored version carries the lock asked for. Some S3 implementations (moto among them)
 * drop Object Lock headers on multipart uploads, so read the version back and apply what is missing.
 */
export async function confirmObjectLock(
  client: S3Client,
  Bucket: string,
  Key: string,
  VersionId: string,
  want: { mode: 'COMPLIANCE' | 'GOVERNANCE'; retainUntil: Date; legalHold: boolean },
) {
  let head = await headObject(client, Bucket, Key, VersionId);
  if (!head?.lockMode) {
    await client.send(
      new PutObjectRetentionCommand({
        Bucket,
        Key,
        VersionId,
        Retention: { Mode: want.mode, RetainUntilDate: want.retainUntil },
      }),
    );
  }
  if (want.legalHold && head?.legalHold !== 'ON') {
    await client.send(new PutObjectLegalHoldCommand({ Bucket, Key, VersionId, LegalHold: { Status: 'ON' } }));
  }
  if (!head?.lockMode || (want.legalHold && head.legalHold !== 'ON'))
    head = await headObject(client, Bucket, Key, VersionId);
  return { lockMode: head?.lockMode, retainUntil: head?.retainUntil, legalHold: head?.legalHold === 'ON' };
}

export async function headObject(client: S3Client, Bucket: string, Key: string, VersionId?: string) {
  try {
    const out = await client.send(new HeadObjectCommand({ Bucket, Key, ...(VersionId ? { VersionId } : {}) }));
    return {
      size: out.ContentLength ?? 0,
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      lockMode: out.ObjectLockMode,
      retainUntil: out.ObjectLockRetainUntilDate?.toISOString(),
      legalHold: out.ObjectLockLegalHoldStatus,
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function getObject(client: S3Client, Bucket: string, Key: string, VersionId?: string): Promise<Readable> {
  const out = await client.send(new GetObjectCommand({ Bucket, Key, ...(VersionId ? { VersionId } : {}) }));
  return out.Body as Readable;
}

export async function listKeys(client: S3Client, Bucket: string, Prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const out = await client.send(
      new ListObjectsV2Command({ Bucket, Prefix, ...(ContinuationToken ? { ContinuationToken } : {}) }),
    );
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys;
}

/** Read-only facts about the bucket for preflight. */
export async function describeBucketProtection(client: S3Client, Bucket: string) {
  await client.send(new HeadBucketCommand({ Bucket }));
  const versioning = await client.send(new GetBucketVersioningCommand({ Bucket }));
  let objectLock: string | undefined;
  let defaultRetention: unknown;
  try {
    const lock = await client.send(new GetObjectLockConfigurationCommand({ Bucket }));
    objectLock = lock.ObjectLockConfiguration?.ObjectLockEnabled;
    defaultRetention = lock.ObjectLockConfiguration?.Rule?.DefaultRetention;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return { versioning: versioning.Status, objectLockEnabled: objectLock === 'Enabled', defaultRetention };
}

/** Object Lock settings a new object is written with (also signed into presigned PUTs). */
export interface LockParams {
  ObjectLockMode?: 'COMPLIANCE' | 'GOVERNANCE';
  ObjectLockRetainUntilDate?: Date;
  ObjectLockLegalHoldStatus?: 'ON';
}

/** A presigned GET of one object version (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ShareObjectPreSignedURL.html). */
export function presignGet(
  client: S3Client,
  Bucket: string,
  Key: string,
  VersionId: string | undefined,
  expiresIn: number,
) {
  return getSignedUrl(client, new GetObjectCommand({ Bucket, Key, ...(VersionId ? { VersionId } : {}) }), {
    expiresIn,
  });
}

/**
 * A presigned PutObject that never overwrites (If-None-Match: *) and carries the lock; the headers
 * returned are signed, so the uploader must send them as they are.
 */
export async function presignPut(
  client: S3Client,
  params: { Bucket: string; Key: string; ContentType: string } & LockParams,
  expiresIn: number,
): Promise<{ url: string; headers: Record<string, string> }> {
  const headers: Record<string, string> = { 'content-type': params.ContentType, 'if-none-match': '*' };
  if (params.ObjectLockMode) headers['x-amz-object-lock-mode'] = params.ObjectLockMode;
  if (params.ObjectLockRetainUntilDate)
    headers['x-amz-object-lock-retain-until-date'] = params.ObjectLockRetainUntilDate.toISOString();
  if (params.ObjectLockLegalHoldStatus) headers['x-amz-object-lock-legal-hold'] = params.ObjectLockLegalHoldStatus;
  const url = await getSignedUrl(client, new PutObjectCommand({ ...params, IfNoneMatch: '*' }), {
    expiresIn,
    signableHeaders: new Set(Object.keys(headers)),
    // Lock and condition headers stay headers (signed), not query parameters a proxy could drop.
    unhoistableHeaders: new Set(Object.keys(headers)),
  });
  return { url, headers };
}

/** Start a multipart upload (with the lock) and presign its UploadPart calls 1…parts. */
export async function presignParts(
  client: S3Client,
  params: { Bucket: string; Key: string; ContentType: string } & LockParams,
  parts: number,
  expiresIn: number,
): Promise<{ uploadId: string; urls: string[] }> {
  const created = await client.send(new CreateMultipartUploadCommand(params));
  const UploadId = created.UploadId!;
  const urls: string[] = [];
  for (let PartNumber = 1; PartNumber <= parts; PartNumber++) {
    urls.push(
      await getSignedUrl(
        client,
        new UploadPartCommand({ Bucket: params.Bucket, Key: params.Key, UploadId, PartNumber }),
        {
          expiresIn,
        },
      ),
    );
  }
  return { uploadId: UploadId, urls };
}

/** Complete a multipart upload from the parts S3 holds (never overwriting); false when no part arrived. */
export async function completeParts(client: S3Client, Bucket: string, Key: string, UploadId: string): Promise<boolean> {
  const parts: { PartNumber: number; ETag: string }[] = [];
  let PartNumberMarker: string | undefined;
  do {
    const page = await client.send(
      new ListPartsCommand({ Bucket, Key, UploadId, ...(PartNumberMarker ? { PartNumberMarker } : {}) }),
    );
    for (const p of page.Parts ?? []) parts.push({ PartNumber: p.PartNumber!, ETag: p.ETag! });
    PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (PartNumberMarker);
  if (!parts.length) return false;
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key,
      UploadId,
      IfNoneMatch: '*',
      MultipartUpload: { Parts: parts.sort((a, b) => a.PartNumber - b.PartNumber) },
    }),
  );
  return true;
}
