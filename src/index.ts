/** holdfast's public library API: the only import path for users. The library never prints or exits. */
export { planCapture, planCase, type PlanOptions } from './capture.js';
export { executePlan, journalPath, type CaptureOutcome, type ExecuteOptions } from './execute.js';
export { releaseContainment, type ReleaseOptions, type ReleaseOutcome } from './release.js';
export { verifyEvidence, latestManifestKey, type VerifyReport, type VerifyItem } from './verify.js';
export { statusFromJournal, type StatusReport } from './status.js';
export { parseCase, readCaseFile, type CaseInput } from './case.js';
export { buildPlan, assertUsablePlan, planDigest } from './plan.js';
export { foldManifest, serializeManifest, MANIFEST_SCHEMA, type Manifest } from './manifest.js';
export { checkJournalChain, Journal } from './journal.js';
export { canonicalJson } from './canonical-json.js';
export { builtinProviders, createStore } from './registry.js';
export { createFsStore } from '../providers/fs-store/index.js';
export { createS3Store } from '../providers/s3-store/index.js';
export { assertAwsCommandAllowed, assertKubeRequestAllowed, guardAwsClient, GuardRefusal } from './guard.js';
export * from './errors.js';
export type { CaptureEvent, CaptureStatus } from './events.js';
export type * from './types.js';
export { PHASES, PLAN_SCHEMA } from './types.js';
