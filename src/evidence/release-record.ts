/**
 * The release record (`holdfast/release-record@1`): the seal of a release. A pure fold of the events
 * since the previous seal, stored as canonical JSON, digested, signed, and its digest journaled in
 * `release.sealed`, as a manifest is for a capture.
 */
import type { CaptureEvent } from '../core/events.js';
import type { JournalCopyPin } from './store-journal.js';

export const RELEASE_RECORD_SCHEMA = 'holdfast/release-record@1';

export interface ReleaseRecord {
  schema: typeof RELEASE_RECORD_SCHEMA;
  incident: string;
  startedAt: string;
  endedAt: string;
  /** Change ids restored, and left as they were (changed since by someone else). */
  restored: string[];
  left: { changeId: string; note: string }[];
  failed: { changeId: string; code: string; message: string }[];
  journal: { key: string; head: string; events: number; copies: JournalCopyPin[] };
}

/**
 * Fold the events after the previous seal (`since` is the index of the first) into a release record.
 * `events` is the whole journal up to (not including) this seal.
 */
export function foldReleaseRecord(
  incident: string,
  events: readonly CaptureEvent[],
  since: number,
  seal: { journalKey: string; journalHead: string; sealedAt: string; copies: JournalCopyPin[] },
): ReleaseRecord {
  const segment = events.slice(since);
  const restored: string[] = [];
  const left: { changeId: string; note: string }[] = [];
  const failed: { changeId: string; code: string; message: string }[] = [];
  for (const e of segment) {
    if (e.type === 'change.released') {
      if (e.restored) restored.push(e.changeId);
      else left.push({ changeId: e.changeId, note: e.note ?? '' });
    } else if (e.type === 'release.failed') failed.push({ changeId: e.changeId, code: e.code, message: e.message });
  }
  return {
    schema: RELEASE_RECORD_SCHEMA,
    incident,
    startedAt: segment[0]?.at ?? seal.sealedAt,
    endedAt: seal.sealedAt,
    restored,
    left,
    failed,
    journal: { key: seal.journalKey, head: seal.journalHead, events: events.length, copies: seal.copies },
  };
}
