/**
 * Why an EBS direct API read (ListSnapshotBlocks, GetSnapshotBlock) failed, in one line a responder
 * acts on: what failed, where, what to do. Such a failure means the image could not be read, never
 * that it was changed: a caller reports it as "could not check", not as tampering. An answer that
 * is no AWS answer (an endpoint without the EBS direct APIs answers with an HTML page) comes back the
 * same every time, so it is never retried. The kinds come from src/aws/errors.ts.
 */
import { awsHoldfastError, classifyAwsError } from '../../src/aws/errors.js';
import { IntegrityError, PermissionError, RemoteError } from '../../src/core/errors.js';
import { EC2_POLICY } from './facts.js';

/** What is wrong with an answer that is no AWS answer, or undefined when the error is another kind. */
export function unusableAnswer(error: unknown): string | undefined {
  const c = classifyAwsError(error);
  if (c.kind !== 'parse' && c.kind !== 'unsupported') return undefined;
  return `the endpoint answered${c.status ? ` HTTP ${c.status}` : ''} with something that is not an AWS answer`;
}

/** A dry-run check's detail for an answer that is no AWS answer, or undefined for any other error. */
export function uncheckableDetail(error: unknown): string | undefined {
  const unusable = unusableAnswer(error);
  return unusable && `could not check: ${unusable} (it may not offer this API)`;
}

/**
 * The error to report for a failed read of `snapshotId`'s image in `region`: an IntegrityError (a
 * block whose bytes do not match EBS's checksum) passes unchanged; anything else becomes a short
 * RemoteError (retryable only when the failure may pass) or PermissionError, keeping the SDK error
 * as its cause.
 */
export function ebsDirectFailure(error: unknown, snapshotId: string, region: string | undefined): Error {
  if (error instanceof IntegrityError) return error;
  const where = `snapshot ${snapshotId}${region ? ` in ${region}` : ''}`;
  const unusable = unusableAnswer(error);
  if (unusable)
    return new RemoteError(
      `the EBS direct APIs could not read ${where}: ${unusable} (it may not offer the EBS direct APIs, or cannot read snapshots made by CreateSnapshots); run it where the EBS direct APIs reach the snapshot`,
      false,
      { cause: error },
    );
  const e = awsHoldfastError(error);
  if (e instanceof PermissionError)
    return new PermissionError(
      `the EBS direct APIs refused to read ${where} (${e.action}): grant ebs:ListSnapshotBlocks and ebs:GetSnapshotBlock (${EC2_POLICY}; for verify, policies/aws/verify.json)`,
      'ebs:ListSnapshotBlocks',
      EC2_POLICY,
      { cause: error },
    );
  const retryable = e instanceof RemoteError && e.retryable;
  return new RemoteError(
    `the EBS direct APIs could not read ${where}: ${e.message}${retryable ? ' (may pass: run it again)' : ''}`,
    retryable,
    { cause: error },
  );
}
