/** Test helpers for the moto server started by global-setup. */
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { awsClientConfig, type AwsClientConfig } from '../../src/aws/config.js';

/** Environment that points the real AWS SDK clients (and the CLI) at moto. */
export function motoEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: inject('motoEndpoint'),
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    HOLDFAST_AWS_MAX_ATTEMPTS: '1',
    ...extra,
  };
}

/** A unique incident id for one test, so tests never share state. */
export function testIncident(label = 'T'): string {
  return `IR-${label}-${randomBytes(4).toString('hex')}`;
}

/** An S3 client pointed at moto, for test set-up and inspection only. */
export async function testS3() {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: inject('motoEndpoint'),
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
}

/** An EC2 client pointed at moto, for test set-up and inspection only (the SDK's own retries kept). */
export async function testEc2() {
  const { EC2Client } = await import('@aws-sdk/client-ec2');
  return new EC2Client({
    endpoint: inject('motoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

/** Create a bucket, with Object Lock (and so versioning) unless `locked` is false. */
export async function createTestBucket(options: { locked?: boolean; versioned?: boolean } = {}): Promise<string> {
  const { CreateBucketCommand, PutBucketVersioningCommand } = await import('@aws-sdk/client-s3');
  const s3 = await testS3();
  const bucket = `hf-test-${randomBytes(5).toString('hex')}`;
  const locked = options.locked ?? true;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: locked }));
  if (!locked && options.versioned) {
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  return bucket;
}

/**
 * The fields every AwsClientConfig carries besides where to connect (User-Agent, call timeouts), as
 * a capture sets them, for tests that build a provider's clients themselves.
 */
export function clientDefaults(): Pick<AwsClientConfig, 'customUserAgent' | 'requestHandler'> {
  const { customUserAgent, requestHandler } = awsClientConfig({ kase: {}, env: {}, clients: {} });
  return { customUserAgent, requestHandler };
}
