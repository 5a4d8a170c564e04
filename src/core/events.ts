/**
 * Typed capture events. Every state change is one event; the journal stores them, the CLI renders
 * them, and library callers subscribe with `onEvent`.
 */
import type { ArtifactRecord, Case, ChangeRecord, Json, JsonObject, PreflightResult } from './types.js';

interface Base {
  seq: number;
  at: string;
  incident: string;
  stepId?: string;
}

export type CaptureEventBody =
  | {
      type: 'capture.started';
      captureId: string;
      /** The validated case (no secrets: passwords are referenced by env name or file path). */
      case: Case;
      planDigest: string;
      operator: JsonObject;
      tool: JsonObject;
      resumed: boolean;
      steps: number;
      /** The plan's steps, so status and sitreps can say what is still pending. */
      plannedSteps: { id: string; title: string; phase: string; target: string; awaitsApproval: boolean }[];
      /** The key that will sign this run's seal; verify compares the signature's key with it. */
      signer?: SignerRecord;
      /** The incident lease this run holds (evidence watch): a new generation is a takeover. */
      lease?: { holder: string; generation: number };
    }
  | { type: 'step.started'; stepId: string; attempt: number; phase: string; title: string }
  | { type: 'step.progress'; stepId: string; message: string; detail?: JsonObject }
  | { type: 'step.intent'; stepId: string; what: JsonObject }
  | { type: 'artifact.recorded'; stepId: string; artifact: ArtifactRecord }
  | { type: 'change.recorded'; stepId: string; change: ChangeRecord }
  | { type: 'step.retry'; stepId: string; attempt: number; delayMs: number; message: string }
  | {
      type: 'step.done';
      stepId: string;
      outputs: JsonObject;
      limitations: string[];
      note?: string;
    }
  | {
      type: 'step.failed';
      stepId: string;
      code: string;
      message: string;
      retryable: boolean;
      details?: Json;
    }
  | {
      type: 'step.skipped';
      stepId: string;
      reason: 'awaits-approval' | 'dependency-failed' | 'aborted';
      detail: string;
    }
  | { type: 'preflight.result'; stepId: string; result: PreflightResult }
  | { type: 'capture.limitation'; message: string }
  | { type: 'capture.aborted'; reason: string }
  | { type: 'capture.finished'; status: CaptureStatus; failed: number; waiting: number }
  | {
      type: 'capture.sealed';
      status: CaptureStatus;
      manifestKey: string;
      manifestVersionId?: string;
      manifestSha256: string;
      journalKey: string;
      /** Where the signature record lies, when the manifest was signed. */
      signatureKey?: string;
      signer?: string;
    }
  | { type: 'release.started'; changes: number; signer?: SignerRecord }
  | {
      type: 'change.released';
      changeId: string;
      resource: string;
      attribute: string;
      restored: boolean;
      note?: string;
      /** Not restored by decision (credential containment stays in force): the next capture contains again. */
      kept?: boolean;
    }
  | { type: 'release.failed'; changeId: string; resource: string; code: string; message: string }
  | { type: 'release.finished'; restored: number; failed: number }
  | {
      /** Seals the release's events (and any other events since the last seal) with a release record. */
      type: 'release.sealed';
      recordKey: string;
      recordVersionId?: string;
      recordSha256: string;
      journalKey: string;
      signatureKey?: string;
      signer?: string;
    }
  | { type: 'custody'; action: string; actor: JsonObject; detail?: JsonObject }
  | {
      /**
       * Who holds the incident's roles, as a capture, release or sitrep was told: `commander` replaces
       * the Incident Commander (`takeOver`: an IC hand-over from `previousCommander`), `responders` join.
       */
      type: 'roles.recorded';
      commander?: string;
      responders: string[];
      takeOver: boolean;
      previousCommander?: string;
      /** Who ran the command (OS user, host). */
      by: JsonObject;
    }
  | {
      /** The Incident Commander declared the incident a false alarm: the final sitrep says so. */
      type: 'incident.false-alarm';
      commander?: string;
      by: JsonObject;
    };

/** A signing key as journaled: its id, algorithm and the SHA-256 of its public key (SPKI DER). */
export type SignerRecord = { keyId: string; algorithm: string; publicKeyFingerprint: string };

export type CaptureStatus = 'complete' | 'awaiting-approval' | 'partial' | 'failed' | 'aborted' | 'planned';

/** A capture event as stored and emitted: body plus sequence, time and incident. */
export type CaptureEvent = CaptureEventBody & Base;

export type EventType = CaptureEvent['type'];

/**
 * Live progress while something takes time: bytes streamed, percent done, what is being waited on.
 * Not journaled (it changes several times a second and proves nothing); the CLI renders it, bots
 * get it with `--json`. Subscribe with `onProgress`.
 */
export interface ProgressEvent {
  type: 'progress';
  at: string;
  incident: string;
  /** The step it belongs to; absent for waits outside a step (credential lookup, discovery). */
  stepId?: string;
  /** What is being waited on, in words (e.g. "AWS credential lookup", "3 EBS snapshots to complete"). */
  waitingOn?: string;
  /** Bytes streamed so far (dumps, uploads). */
  bytes?: number;
  /** Average rate since the first byte. */
  bytesPerSecond?: number;
  /** 0–100, where the platform reports it (snapshots). */
  percent?: number;
  /** The last report for this stream or wait. */
  done?: boolean;
  /** A warning that would otherwise be printed by a dependency (e.g. the AWS SDK's Node version notice). */
  warning?: string;
}

/** Call a progress listener; like events, a listener that throws never breaks a capture. */
export function progressEmitter(
  incident: string,
  listener: ((p: ProgressEvent) => void) | undefined,
): (p: Omit<ProgressEvent, 'type' | 'at' | 'incident'>) => void {
  return (p) => {
    if (!listener) return;
    try {
      listener({ type: 'progress', at: new Date().toISOString(), incident, ...p });
    } catch {
      // A broken display must not stop evidence collection.
    }
  };
}

/**
 * Fan out events to listeners; a listener that throws never breaks a capture.
 * Listener errors are counted so the caller can tell, but never rethrown.
 */
export class EventFanout {
  #listeners: ((e: CaptureEvent) => void)[] = [];
  listenerErrors = 0;

  subscribe(listener: ((e: CaptureEvent) => void) | undefined): void {
    if (listener) this.#listeners.push(listener);
  }

  emit(event: CaptureEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        this.listenerErrors++;
      }
    }
  }
}
