/**
 * Few error classes, each with a `code`, a short `message` and an optional `cause`.
 * Constructors never log. `src/cli/exit-codes.ts` maps them to exit codes in one place.
 */

export type ErrorCode =
  | 'BAD_INPUT'
  | 'PERMISSION_DENIED'
  | 'REMOTE_FAILURE'
  | 'INTEGRITY_FAILURE'
  | 'ABORTED'
  | 'STATE_UNWRITABLE'
  | 'INTERNAL';

export abstract class HoldfastError extends Error {
  abstract readonly code: ErrorCode;
  /** Extra lines for the full message (e.g. every input problem). */
  readonly details: string[];

  constructor(message: string, options: { cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? [];
  }

  /** The message plus details, one per line. */
  get fullMessage(): string {
    return [this.message, ...this.details.map((d) => `  - ${d}`)].join('\n');
  }
}

/**
 * One problem with the input. `field` names the input as a library caller gave it: a case path
 * (`incident`, `targets.ec2.instances[0]`, `store`), an option (`concurrency`, `stateDir`), an
 * environment variable (`HOLDFAST_EC2_RATE_LIMITS`) or a file path; '' for the input as a whole.
 * Messages never name CLI flags: the CLI translates fields (and case paths inside a message) into
 * its flags (src/cli/input-names.ts).
 */
export type InputProblem = {
  field: string;
  /** What is wrong, without the field's name. */
  message: string;
  /**
   * The message continues the field's name as one phrase (`"i-1" is not an instance id`, `is
   * required`), so a renderer that names the field another way (the CLI's flag) may join them
   * with a space instead of a colon.
   */
  continues?: boolean;
};

/** How a problem reads in a library message: `field: message`. */
export function describeProblem(p: InputProblem): string {
  return p.field ? `${p.field}: ${p.message}` : p.message;
}

/** A problem with one value of `field`: the message starts with the value, quoted. */
export function valueProblem(field: string, value: unknown, rest: string): InputProblem {
  const shown = JSON.stringify(typeof value === 'string' ? value : String(value));
  return { field, message: `${shown}${rest.startsWith(':') ? '' : ' '}${rest}`, continues: true };
}

/** Render a list of problems as "<prefix><the problem>" (one) or "<prefix>N problems" plus one detail each. */
function layoutProblems(texts: readonly string[]): { message: string; details: string[] } {
  return texts.length === 1
    ? { message: `bad input: ${texts[0]}`, details: [] }
    : { message: `bad input: ${texts.length} problems`, details: [...texts] };
}

/**
 * Input that cannot be used; names the input. Raised before anything is touched. `problems` lists
 * every problem; the message says "bad input: " once, here, so callers give only what is wrong.
 * A list of problems reads as "bad input: <the problem>" (one) or "bad input: N problems" with each
 * as a detail; a single text keeps any details it is given.
 */
export class BadInputError extends HoldfastError {
  readonly code = 'BAD_INPUT' as const;
  /** Every problem, in the order found. */
  readonly problems: InputProblem[];
  /** Whether the message is laid out from `problems` (a list) rather than one text with details. */
  private readonly listed: boolean;

  constructor(
    problem: string | InputProblem | readonly (string | InputProblem)[],
    options: { cause?: unknown; details?: string[] } = {},
  ) {
    const asProblem = (p: string | InputProblem): InputProblem =>
      typeof p === 'string' ? { field: '', message: p } : p;
    if (typeof problem === 'string') {
      super(`bad input: ${problem}`, options);
      this.problems = [problem, ...this.details].map(asProblem);
      this.listed = false;
    } else {
      const problems = Array.isArray(problem) ? problem.map(asProblem) : [problem as InputProblem];
      const { message, details } = layoutProblems(problems.map(describeProblem));
      super(message, { ...options, details });
      this.problems = problems;
      this.listed = true;
    }
  }

  /** The full message with each problem described by `describe` (the CLI names its flags this way). */
  fullMessageWith(describe: (p: InputProblem) => string): string {
    if (!this.listed) {
      const [first, ...rest] = this.problems;
      return [`bad input: ${first ? describe(first) : ''}`, ...rest.map((p) => `  - ${describe(p)}`)].join('\n');
    }
    const { message, details } = layoutProblems(this.problems.map(describe));
    return [message, ...details.map((d) => `  - ${d}`)].join('\n');
  }
}

/** The caller lacks a permission; names the action and the policy file that grants it. */
export class PermissionError extends HoldfastError {
  readonly code = 'PERMISSION_DENIED' as const;
  constructor(
    message: string,
    readonly action: string,
    readonly policyFile: string | undefined,
    options: { cause?: unknown; details?: string[] } = {},
  ) {
    super(message, options);
  }
}

/** A remote call failed; `retryable` says whether the executor may try again. */
export class RemoteError extends HoldfastError {
  readonly code = 'REMOTE_FAILURE' as const;
  constructor(
    message: string,
    readonly retryable: boolean,
    options: { cause?: unknown; details?: string[] } = {},
  ) {
    super(message, options);
  }
}

/**
 * A write-once store already holds `key`: nothing was written. Stores throw it from `put`; a writer
 * racing another (the custody log) takes the next key instead.
 */
export class KeyExistsError extends RemoteError {
  constructor(
    message: string,
    readonly key: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, false, options);
  }
}

/** Evidence, journal, manifest or signature does not match what was recorded. */
export class IntegrityError extends HoldfastError {
  readonly code = 'INTEGRITY_FAILURE' as const;
}

/** The capture was aborted (signal); the journal is closed and the capture can resume. */
export class AbortedError extends HoldfastError {
  readonly code = 'ABORTED' as const;
}

/**
 * The local state (journal, lock) cannot be written durably: disk full, read-only, permission. No
 * mutating call is sent without its durable record, so the run stops; `path` names what failed.
 */
export class StateWriteError extends HoldfastError {
  readonly code = 'STATE_UNWRITABLE' as const;
  constructor(
    message: string,
    readonly path: string,
    options: { cause?: unknown; details?: string[] } = {},
  ) {
    super(message, options);
  }
}

/** Why a file system call failed, in words a responder acts on. */
export function fsFailureReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOSPC':
      return 'disk full (ENOSPC)';
    case 'EDQUOT':
      return 'disk quota exceeded (EDQUOT)';
    case 'EROFS':
      return 'read-only file system (EROFS)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'ENOENT':
      return 'missing (ENOENT)';
    case 'ENOTDIR':
      return 'a path component is not a directory (ENOTDIR)';
    case 'EIO':
      return 'I/O error (EIO)';
    default:
      return code ? `${code}: ${(error as Error).message}` : String((error as Error)?.message ?? error);
  }
}

/** A broken invariant: a bug in holdfast. */
export class InternalError extends HoldfastError {
  readonly code = 'INTERNAL' as const;
}

/**
 * A cloud's knowledge of its own errors (src/aws/errors.ts for AWS): its errors as HoldfastErrors,
 * undefined for errors that are not its. The engine hands in every credential kit's.
 */
export type CloudErrorClassifier = (error: unknown) => HoldfastError | undefined;

/** Node's words for a connection that failed or went silent: worth trying again. */
const CONNECTION_FAILURE = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|socket hang up/;

/**
 * Normalise anything thrown into a HoldfastError. Cloud errors are classified by `cloud` (the
 * engine passes every credential kit's classifier); what is left is judged by its HTTP status
 * (an `HTTP`-style numeric `code`: 403 denied, 429 and 5xx retryable) and Node's connection errors.
 */
export function toHoldfastError(error: unknown, cloud?: CloudErrorClassifier): HoldfastError {
  if (error instanceof HoldfastError) return error;
  const err = error as { name?: string; message?: string; code?: number | string } | undefined;
  const name = err?.name ?? '';
  const message = err?.message ?? String(error);
  if (name === 'AbortError') return new AbortedError('aborted', { cause: error });
  const known = cloud?.(error);
  if (known) return known;
  const status = typeof err?.code === 'number' ? err.code : undefined;
  if (status === 403)
    return new PermissionError(`permission denied: ${message}`, name || 'unknown', undefined, { cause: error });
  const retryable =
    status === 429 ||
    (status !== undefined && status >= 500) ||
    CONNECTION_FAILURE.test(`${typeof err?.code === 'string' ? err.code : ''} ${message}`);
  return new RemoteError(message, retryable, { cause: error });
}

/** The short text of an error for events and the manifest; never includes a cause's secrets. */
export function describeError(
  error: unknown,
  cloud?: CloudErrorClassifier,
): { code: string; message: string; retryable: boolean } {
  const e = toHoldfastError(error, cloud);
  return { code: e.code, message: e.message, retryable: e instanceof RemoteError && e.retryable };
}
