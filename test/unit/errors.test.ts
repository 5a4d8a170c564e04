import { describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/exit-codes.js';
import { toHoldfastError } from '../../src/core/errors.js';

const sdkError = (name: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { name, ...extra });

describe('SDK errors become a few coded errors, each with the exit code a responder can act on', () => {
  it('no credentials is bad input (exit 2) that says how to provide them', () => {
    const e = toHoldfastError(sdkError('CredentialsProviderError', 'Could not load credentials from any providers'));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toMatch(/no AWS credentials found .*AWS_PROFILE/);
    expect(exitCodeForError(e)).toBe(2);
  });

  it('expired credentials are not retried, and the message says to refresh and re-run', () => {
    const e = toHoldfastError(
      sdkError('ExpiredToken', 'The security token included in the request is expired', {
        $metadata: { httpStatusCode: 400 },
      }),
    );
    expect(e.code).toBe('REMOTE_FAILURE');
    expect(e).toMatchObject({ retryable: false });
    expect(e.message).toContain('refresh them and run the same command again');
  });

  it('a denied call is a permission error (exit 3); throttling and 5xx are retryable', () => {
    expect(exitCodeForError(toHoldfastError(sdkError('UnauthorizedOperation', 'You are not authorized')))).toBe(3);
    expect(toHoldfastError(sdkError('ThrottlingException', 'Rate exceeded'))).toMatchObject({ retryable: true });
    expect(toHoldfastError(sdkError('InternalFailure', 'oops', { $metadata: { httpStatusCode: 503 } }))).toMatchObject({
      retryable: true,
    });
  });
});
