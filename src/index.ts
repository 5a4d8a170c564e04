/** holdfast's public library API: the only import path for users. The library never prints or exits. */
export { planCapture, planCase, type PlanOptions } from './engine/capture.js';
export { executePlan, journalPath, type CaptureOutcome, type ExecuteOptions } from './engine/execute.js';
export { releaseContainment, type ReleaseOptions, type ReleaseOutcome } from './engine/release.js';
export { verifyEvidence, latestManifestKey, type VerifyReport, type VerifyItem } from './evidence/verify.js';
export { statusFromJournal, type StatusReport } from './report/status.js';
export { parseCase, readCaseFile, type CaseInput } from './engine/case.js';
export { buildPlan, assertUsablePlan, planDigest } from './engine/plan.js';
export { foldManifest, serializeManifest, MANIFEST_SCHEMA, type Manifest } from './evidence/manifest.js';
export { checkJournalChain, Journal } from './evidence/journal.js';
export { canonicalJson } from './evidence/canonical-json.js';
export { builtinProviders, createStore } from './engine/registry.js';
export { createFsStore } from '../providers/fs-store/index.js';
export { createS3Store } from '../providers/s3-store/index.js';
export { assertAwsCommandAllowed, assertKubeRequestAllowed, guardAwsClient, GuardRefusal } from './core/guard.js';
export * from './core/errors.js';
export type { CaptureEvent, CaptureStatus } from './core/events.js';
export type * from './core/types.js';
export { PHASES, PLAN_SCHEMA } from './core/types.js';
