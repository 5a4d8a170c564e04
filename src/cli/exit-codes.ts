/** The one place errors and outcomes become exit codes (the table is in README.md, "Exit codes"). */
import { HoldfastError, type ErrorCode } from '../core/errors.js';
import type { CaptureStatus } from '../core/events.js';

export const EXIT = {
  ok: 0,
  internal: 1,
  badInput: 2,
  permission: 3,
  partial: 4,
  integrity: 5,
  /** The local journal or lock could not be written durably (disk full, read-only, permission). */
  stateUnwritable: 6,
  aborted: 130,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  BAD_INPUT: EXIT.badInput,
  PERMISSION_DENIED: EXIT.permission,
  REMOTE_FAILURE: EXIT.internal,
  INTEGRITY_FAILURE: EXIT.integrity,
  ABORTED: EXIT.aborted,
  STATE_UNWRITABLE: EXIT.stateUnwritable,
  INTERNAL: EXIT.internal,
};

/** Exit code for an error that escaped a command. */
export function exitCodeForError(error: unknown): number {
  return error instanceof HoldfastError ? BY_CODE[error.code] : EXIT.internal;
}

/** Exit code for a capture's final status. */
export function exitCodeForStatus(status: CaptureStatus): number {
  switch (status) {
    case 'complete':
    case 'awaiting-approval':
    case 'planned':
      return EXIT.ok;
    case 'aborted':
      return EXIT.aborted;
    default:
      return EXIT.partial;
  }
}

/**
 * Exit code for a verify report with no failed item (a failed one is an IntegrityError, exit 5):
 * a check an error kept from being made is exit 4, never 5 — it is no finding of tampering.
 */
export function exitCodeForVerify(report: { couldNotCheck: number }): number {
  return report.couldNotCheck ? EXIT.partial : EXIT.ok;
}
