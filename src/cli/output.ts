/** Where the CLI writes: human text on stderr, machine NDJSON on stdout (with --json). */
import type { CaptureEvent } from '../core/events.js';

export interface Output {
  json: boolean;
  /** A line for people (stderr). */
  say(line: string): void;
  /** One JSON document per line (stdout), only with --json. */
  data(value: unknown): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    say: (line) => process.stderr.write(`${line}\n`),
    data: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value)}\n`);
    },
  };
}

/** Render one capture event for a person; returns undefined for events not worth a line. */
export function describeEvent(e: CaptureEvent): string | undefined {
  switch (e.type) {
    case 'capture.started':
      return `${e.resumed ? 'resuming' : 'starting'} capture ${e.captureId} for ${e.incident}: ${e.steps} steps`;
    case 'step.started':
      return e.attempt > 1 ? `  … ${e.title} (attempt ${e.attempt})` : `  … [${e.phase}] ${e.title}`;
    case 'step.progress':
      return `    ${e.stepId}: ${e.message}`;
    case 'step.done':
      return `  ✓ ${e.stepId}${e.note ? ` — ${e.note}` : ''}`;
    case 'step.failed':
      return `  ✗ ${e.stepId}: ${e.message} [${e.code}]`;
    case 'step.retry':
      return `  ↻ ${e.stepId}: ${e.message}; retrying in ${e.delayMs} ms`;
    case 'step.skipped':
      return `  ◦ ${e.stepId}: ${e.detail}`;
    case 'artifact.recorded':
      return `    + ${e.artifact.type} ${e.artifact.id}${e.artifact.sha256 ? ` sha256 ${e.artifact.sha256.slice(0, 16)}…` : ''}`;
    case 'change.recorded':
      return `    ~ ${e.change.resource} ${e.change.attribute}: ${JSON.stringify(e.change.before)} → ${JSON.stringify(e.change.after)}`;
    case 'preflight.result': {
      // A step with nothing to check (it only reads, or writes only to the store) gets no empty detail.
      if (!e.result.checks.length) return `  ${e.result.ok ? '✓' : '✗'} ${e.stepId} (no permission to check)`;
      // A tick only when every permission was proved: one that could not be checked is no pass.
      const mark = !e.result.ok ? '✗' : e.result.checks.every((c) => c.allowed === true) ? '✓' : '?';
      return `  ${mark} ${e.stepId}: ${e.result.checks.map((c) => `${c.action} ${c.allowed === true ? 'allowed' : c.allowed === false ? 'DENIED' : 'not checkable'}${c.detail && c.allowed !== true ? ` (${c.detail})` : ''}`).join('; ')}`;
    }
    case 'capture.aborted':
      return `aborted: ${e.reason}; the journal is closed — run the same command again to resume`;
    case 'capture.sealed':
      // The key alone is relative to the store; the summary names the manifest by its full location.
      return `sealed the manifest (sha256 ${e.manifestSha256})`;
    case 'release.sealed':
      return `sealed release record ${e.recordKey} sha256 ${e.recordSha256}`;
    case 'change.released':
      return `  ${e.restored ? '✓ restored' : '◦ left'} ${e.resource} ${e.attribute}${e.note ? ` — ${e.note}` : ''}`;
    case 'release.failed':
      return `  ✗ could not restore ${e.resource}: ${e.message}`;
    default:
      return undefined;
  }
}
