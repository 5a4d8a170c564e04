import { describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/exit-codes.js';
import { BadInputError } from '../../src/core/errors.js';
import { holdfastErrorOf as toHoldfastError } from '../../src/engine/registry.js';

const sdkError = (name: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { name, ...extra });

describe('SDK errors become a few coded errors (through the credential kits), each with the exit code a responder can act on', () => {
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

describe('bad input carries its problems as a list', () => {
  it('one problem reads "bad input: <problem>"; several read as a count with each as a detail', () => {
    const one = new BadInputError([{ field: 'targets.kubernetes.pods[0]', message: 'shop/web: no such pod' }]);
    expect(one.message).toBe('bad input: targets.kubernetes.pods[0]: shop/web: no such pod');
    expect(one.problems).toEqual([{ field: 'targets.kubernetes.pods[0]', message: 'shop/web: no such pod' }]);
    expect(one.details).toEqual([]);
    const two = new BadInputError(['--severity: expected high, medium or low', '--incident is required']);
    expect(two.message).toBe('bad input: 2 problems');
    expect(two.details).toEqual(['--severity: expected high, medium or low', '--incident is required']);
    expect(two.problems.map((p) => p.message)).toEqual(two.details);
  });

  it('a single text gets the prefix once, and its details become problems too', () => {
    const e = new BadInputError('--dump a: refused', { details: ['--dump b: refused'] });
    expect(e.message).toBe('bad input: --dump a: refused');
    expect(e.problems.map((p) => p.message)).toEqual(['--dump a: refused', '--dump b: refused']);
    expect(exitCodeForError(e)).toBe(2);
  });
});
