/**
 * What an AWS SDK error means, decided once for every provider, store and the kit: throttled,
 * access denied (with the action, when the answer names it), not found, conflict (already exists,
 * a condition that failed), outcome unknown (no answer, or a server fault after sending), an answer
 * that could not be parsed, and a few more. Nothing else in holdfast reads an AWS error's name or
 * message to decide what to do.
 */
import { AbortedError, BadInputError, HoldfastError, PermissionError, RemoteError } from '../core/errors.js';

/** The kinds of AWS failure holdfast acts on differently. */
export type AwsErrorKind =
  | 'aborted'
  /** EC2's answer to a `DryRun` call that would have been allowed (an error, by EC2's design). */
  | 'dry-run-allowed'
  /** No credentials in the chain: a set-up problem the responder fixes at once. */
  | 'no-credentials'
  | 'expired-credentials'
  | 'throttled'
  | 'access-denied'
  | 'not-found'
  /** Already exists, a duplicate, or a write condition that failed (S3 If-None-Match). */
  | 'conflict'
  /** The request itself is malformed (an id that is not one). */
  | 'invalid'
  /** The endpoint does not offer the API (an emulator, an old partition). */
  | 'unsupported'
  /** The answer could not be parsed: never retried (the same bytes would come back). */
  | 'parse'
  /** The call may or may not have been carried out: no answer (timeout, dropped connection) or a 5xx. */
  | 'outcome-unknown'
  | 'other';

/** One AWS error, classified. */
export interface AwsErrorClass {
  kind: AwsErrorKind;
  /** The AWS error code as the SDK names the error (`InvalidSnapshot.NotFound`), '' when there is none. */
  code: string;
  message: string;
  /** The HTTP status of the answer, when there was one. */
  status?: number;
  /** The IAM action refused, when the answer names it (`ec2:CreateSnapshots`). */
  deniedAction?: string;
  /** Whether the same call may succeed if tried again. */
  retryable: boolean;
}

/** Name of the error a lost create answer becomes (src/aws/no-blind-retry.ts): retried after a look-up. */
export const UNCONFIRMED_CALL_ERROR = 'HoldfastUnconfirmedCall';

const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);
/** The SDK's throttling codes (@smithy service-error-classification) and S3's and EC2's own. */
const THROTTLED =
  /Throttl|RequestLimitExceeded|TooManyRequests|SlowDown|PriorRequestNotComplete|BandwidthLimitExceeded|LimitExceededException|ProvisionedThroughputExceeded/;
const DENIED = /UnauthorizedOperation|Unauthorized|AccessDenied|AuthorizationError|Forbidden/i;
const NOT_FOUND = /NotFound|NoSuch/;
const CONFLICT = /Duplicate|AlreadyExists|PreconditionFailed|ConditionalRequestConflict/;
const INVALID = /\.Malformed$|^InvalidParameter|^ValidationError$|^ValidationException$/;
const UNSUPPORTED = /NotImplemented|InvalidAction|UnknownOperation/i;
/** Node's own words for a connection that failed or went silent (the SDK retries these). */
const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
/** How IAM says which action it refused ("… is not authorized to perform: ec2:CreateSnapshots on …"). */
const DENIED_ACTION =
  /not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9*]+)|allows the ([a-z0-9-]+:[A-Za-z0-9*]+) action/;

type SdkErrorShape = {
  name?: string;
  message?: string;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  $response?: unknown;
  $fault?: unknown;
};

/** Classify anything an AWS SDK call threw. */
export function classifyAwsError(error: unknown): AwsErrorClass {
  const e = (error ?? {}) as SdkErrorShape;
  const code = typeof e.name === 'string' && e.name !== 'Error' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : String(error);
  const status = e.$metadata?.httpStatusCode ?? (typeof e.code === 'number' ? e.code : undefined);
  const base = { code, message, ...(status !== undefined ? { status } : {}) };
  const is = (kind: AwsErrorKind, retryable = false): AwsErrorClass => ({ kind, ...base, retryable });
  if (code === 'AbortError') return is('aborted');
  if (code === 'DryRunOperation') return is('dry-run-allowed');
  if (code === UNCONFIRMED_CALL_ERROR) return is('outcome-unknown', true);
  if (code === 'CredentialsProviderError') return is('no-credentials');
  if (EXPIRED.has(code)) return is('expired-credentials');
  if (THROTTLED.test(code) || status === 429 || e.$retryable?.throttling === true) return is('throttled', true);
  if (DENIED.test(code) || status === 403) {
    const m = DENIED_ACTION.exec(message);
    const deniedAction = m?.[1] ?? m?.[2];
    return { ...is('access-denied'), ...(deniedAction ? { deniedAction } : {}) };
  }
  if (NOT_FOUND.test(code) || status === 404) return is('not-found');
  if (CONFLICT.test(code) || status === 409 || status === 412) return is('conflict');
  if (UNSUPPORTED.test(code)) return is('unsupported');
  // The SDK keeps the raw answer of a body it could not parse in a hidden `$response`. A 500 page
  // that is no AWS error is an endpoint without the API (moto); a gateway's 502-504 page says
  // nothing about the call (below); anything else will parse no better next time.
  if (e.$response !== undefined && e.$fault === undefined && !(status !== undefined && status > 500)) {
    return is(status === 500 ? 'unsupported' : 'parse');
  }
  // Moto and a few APIs answer a missing or duplicate thing with a generic code and plain words.
  if (status !== undefined && status < 500 && /does not exist/i.test(message)) return is('not-found');
  if (status !== undefined && status < 500 && /already exists/i.test(message)) return is('conflict');
  if (INVALID.test(code)) return is('invalid');
  if (status === undefined || status >= 500 || TIMEOUT_NAMES.has(code) || CONNECTION_CODES.has(String(e.code)))
    return is('outcome-unknown', status === undefined ? isConnectionFailure(e, code) : true);
  return is('other', e.$retryable !== undefined);
}

/** A call with no HTTP answer: retryable when it timed out or the connection failed, not for a local bug. */
function isConnectionFailure(e: SdkErrorShape, code: string): boolean {
  return (
    TIMEOUT_NAMES.has(code) ||
    CONNECTION_CODES.has(String(e.code)) ||
    e.$retryable !== undefined ||
    /ECONNRESET|ETIMEDOUT|EPIPE|socket hang up/i.test(e.message ?? '')
  );
}

/** Is this AWS saying "slow down"? */
export const isThrottled = (error: unknown): boolean => classifyAwsError(error).kind === 'throttled';
/** Was the call refused for want of a permission? */
export const isAccessDenied = (error: unknown): boolean => classifyAwsError(error).kind === 'access-denied';
/** Does the thing asked about not exist? */
export const isNotFound = (error: unknown): boolean => classifyAwsError(error).kind === 'not-found';
/** Does it exist already (or did a write condition fail)? */
export const isConflict = (error: unknown): boolean => classifyAwsError(error).kind === 'conflict';
/** Does the endpoint not offer this API at all? */
export const isUnsupported = (error: unknown): boolean => classifyAwsError(error).kind === 'unsupported';

/**
 * True when the server may have carried the call out although no good answer came back: no answer
 * at all, or a server fault. Throttles and aborts mean "not done".
 */
export function outcomeUnknown(error: unknown): boolean {
  const c = classifyAwsError(error);
  if (c.kind === 'aborted' || c.kind === 'throttled') return false;
  return c.status === undefined || c.status >= 500;
}

/**
 * An AWS error as a HoldfastError (one already is one stays as it is): no credentials is bad input (exit 2, with how to fix it), a
 * denial a PermissionError naming the action, everything else a RemoteError, retryable or not.
 */
export function awsHoldfastError(error: unknown): HoldfastError {
  if (error instanceof HoldfastError) return error;
  const c = classifyAwsError(error);
  switch (c.kind) {
    case 'aborted':
      return new AbortedError('aborted', { cause: error });
    case 'no-credentials':
      return new BadInputError(
        `no AWS credentials found (${c.message}): set AWS_PROFILE (after \`aws sso login\`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or task role is available`,
        { cause: error },
      );
    case 'expired-credentials':
      return new RemoteError(
        `AWS credentials expired (${c.message}): refresh them and run the same command again; finished steps are not repeated`,
        false,
        { cause: error },
      );
    case 'access-denied':
      return new PermissionError(
        `permission denied: ${c.message}`,
        c.deniedAction ?? (c.code || 'unknown'),
        undefined,
        {
          cause: error,
        },
      );
    default:
      return new RemoteError(c.message, c.retryable, { cause: error });
  }
}

/**
 * The AWS kit's part of `toHoldfastError`: errors that carry AWS's marks (an error code as the
 * error's name, an HTTP status, the SDK's retry traits or its unparsed answer). A plain `Error` is
 * left to the caller.
 */
export function awsErrorOrUndefined(error: unknown): HoldfastError | undefined {
  const e = error as SdkErrorShape | undefined;
  if (!e || typeof e !== 'object') return undefined;
  const named = typeof e.name === 'string' && e.name !== '' && !GENERIC_NAMES.has(e.name);
  const marked = e.$metadata !== undefined || e.$retryable !== undefined || e.$response !== undefined;
  return named || marked ? awsHoldfastError(error) : undefined;
}

/** JavaScript's own error names: not an AWS error code. */
const GENERIC_NAMES = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError']);
