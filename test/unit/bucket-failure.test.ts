/** The S3 store's failures name the bucket and region and say what to do (access denied cannot be made on moto). */
import { describe, expect, it } from 'vitest';
import { BadInputError, PermissionError, RemoteError } from '../../src/core/errors.js';
import { bucketFailure } from '../../providers/s3-store/index.js';

/** The shape the SDK gives a service error: the AWS code as its name, the HTTP status in $metadata. */
const sdkError = (name: string, status: number, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: 'client' });

describe('bucketFailure', () => {
  it('access denied names the bucket, region, the action when AWS names it, and the policy that grants it', () => {
    const e = bucketFailure(
      sdkError(
        'AccessDenied',
        403,
        'User: arn:aws:iam::1:user/x is not authorized to perform: s3:ListBucket on resource',
      ),
      'ir-evidence',
      'eu-west-1',
    );
    expect(e).toBeInstanceOf(PermissionError);
    expect(e.message).toBe(
      's3://ir-evidence (region eu-west-1): access denied to s3:ListBucket for these credentials; grant them policies/aws/s3-store.json (verify: policies/aws/verify.json) on this bucket, or use the account that owns it',
    );
    expect((e as PermissionError).policyFile).toBe('policies/aws/s3-store.json');
  });

  it('a missing bucket (NoSuchBucket, or HeadBucket’s bare 404) is bad input naming the store; a missing key is not', () => {
    for (const error of [sdkError('NoSuchBucket', 404), sdkError('NotFound', 404), sdkError('UnknownError', 404)]) {
      const e = bucketFailure(error, 'gone', 'us-east-1');
      expect(e).toBeInstanceOf(BadInputError);
      expect((e as BadInputError).problems[0]).toMatchObject({
        field: 'store',
        message: expect.stringMatching(/^s3:\/\/gone \(region us-east-1\): no such bucket/),
      });
    }
    expect(bucketFailure(sdkError('NoSuchKey', 404), 'b', 'us-east-1')).toBeInstanceOf(RemoteError);
  });
});
