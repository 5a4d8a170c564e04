import { describe, expect, it } from 'vitest';
import { awsHoldfastError, classifyAwsError, outcomeUnknown, type AwsErrorKind } from '../../src/aws/errors.js';
import { IntegrityError, PermissionError, RemoteError, toHoldfastError } from '../../src/core/errors.js';

/** An SDK service exception as the SDK builds it from an AWS error answer. */
const answer = (name: string, status: number, message = 'm') =>
  Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

/** An answer the SDK could not parse (moto's HTML 500 for an API it lacks, a proxy's page). */
function unparsed(status: number): Error {
  const e = Object.assign(new Error('@aws-sdk XML parse error: mismatched tags'), {
    $metadata: { httpStatusCode: status },
  });
  Object.defineProperty(e, '$response', { value: { statusCode: status }, enumerable: false });
  return e;
}

describe('classifyAwsError: one place knows what an AWS error means', () => {
  const cases: [string, unknown, AwsErrorKind, boolean][] = [
    ['EC2 throttle (503)', answer('RequestLimitExceeded', 503), 'throttled', true],
    ['query API throttle (400)', answer('Throttling', 400), 'throttled', true],
    ['S3 SlowDown', answer('SlowDown', 503), 'throttled', true],
    ['429 without a known code', answer('Whatever', 429), 'throttled', true],
    ['EC2 denial', answer('UnauthorizedOperation', 403), 'access-denied', false],
    ['IAM denial', answer('AccessDenied', 403), 'access-denied', false],
    ['instance not found', answer('InvalidInstanceID.NotFound', 400), 'not-found', false],
    ['IAM no such entity', answer('NoSuchEntity', 404), 'not-found', false],
    ['S3 HeadObject 404 (no code)', answer('NotFound', 404), 'not-found', false],
    ['object lock not configured', answer('ObjectLockConfigurationNotFoundError', 404), 'not-found', false],
    ['group exists', answer('InvalidGroup.Duplicate', 400), 'conflict', false],
    ['rule exists', answer('InvalidPermission.Duplicate', 400), 'conflict', false],
    ['IAM entity exists', answer('EntityAlreadyExists', 409), 'conflict', false],
    ['S3 If-None-Match', answer('PreconditionFailed', 412), 'conflict', false],
    ['malformed id', answer('InvalidInstanceID.Malformed', 400), 'invalid', false],
    ['EC2 DryRun would pass', answer('DryRunOperation', 412), 'dry-run-allowed', false],
    ['API missing (named)', answer('InvalidAction', 400), 'unsupported', false],
    ['API missing (HTML 500)', unparsed(500), 'unsupported', false],
    ['unparseable 200', unparsed(200), 'parse', false],
    ['gateway page 502', unparsed(502), 'outcome-unknown', true],
    ['server fault', answer('InternalError', 500), 'outcome-unknown', true],
    ['timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'outcome-unknown', true],
    ['connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'outcome-unknown', true],
    ['expired', answer('ExpiredToken', 400), 'expired-credentials', false],
    ['no credentials', Object.assign(new Error('no'), { name: 'CredentialsProviderError' }), 'no-credentials', false],
    ['aborted', Object.assign(new Error('stop'), { name: 'AbortError' }), 'aborted', false],
    ['moto says it in words', answer('InvalidParameterValue', 400, 'The rule does not exist'), 'not-found', false],
    ['anything else', answer('IncorrectState', 400), 'other', false],
  ];
  it.each(cases)('%s', (_, error, kind, retryable) => {
    expect(classifyAwsError(error)).toMatchObject({ kind, retryable });
  });

  it('names the denied action when IAM says it, else the error code', () => {
    const said = answer(
      'AccessDenied',
      403,
      'User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: ec2:CreateSnapshots on resource: arn:aws:ec2:::instance/i-1',
    );
    expect(classifyAwsError(said).deniedAction).toBe('ec2:CreateSnapshots');
    expect(awsHoldfastError(said)).toBeInstanceOf(PermissionError);
    expect((awsHoldfastError(said) as PermissionError).action).toBe('ec2:CreateSnapshots');
    const s3 = answer('AccessDenied', 403, 'because no identity-based policy allows the s3:PutObject action');
    expect(classifyAwsError(s3).deniedAction).toBe('s3:PutObject');
    expect(
      (awsHoldfastError(answer('UnauthorizedOperation', 403, 'You are not authorized')) as PermissionError).action,
    ).toBe('UnauthorizedOperation');
  });

  it('a lost create answer is a server fault or silence, never a throttle or an abort', () => {
    expect(outcomeUnknown(answer('InternalError', 500))).toBe(true);
    expect(outcomeUnknown(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe(true);
    expect(outcomeUnknown(answer('RequestLimitExceeded', 503))).toBe(false);
    expect(outcomeUnknown(Object.assign(new Error('a'), { name: 'AbortError' }))).toBe(false);
    expect(outcomeUnknown(answer('InvalidGroup.Duplicate', 400))).toBe(false);
  });

  it('parse errors are never retried; holdfast errors pass through unchanged', () => {
    expect(awsHoldfastError(unparsed(200))).toMatchObject({ code: 'REMOTE_FAILURE', retryable: false });
    const integrity = new IntegrityError('digest differs');
    expect(awsHoldfastError(integrity)).toBe(integrity);
  });

  it('without a cloud classifier, a plain error is judged only by HTTP status and Node connection errors', () => {
    expect(toHoldfastError(answer('ThrottlingException', 400))).toMatchObject({ retryable: false });
    expect(toHoldfastError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toMatchObject({ retryable: true });
    expect(toHoldfastError(Object.assign(new Error('x'), { code: 503 }))).toBeInstanceOf(RemoteError);
    expect(toHoldfastError(Object.assign(new Error('x'), { code: 403 }))).toBeInstanceOf(PermissionError);
  });
});
