/** holdfast's public library API: the only import path for users. The library never prints or exits. */
export { planCapture, planCase, type PlanOptions } from './engine/capture.js';
export { executePlan, journalPath, type CaptureOutcome, type ExecuteOptions } from './engine/execute.js';
export { releaseContainment, type ReleaseOptions, type ReleaseOutcome } from './engine/release.js';
// Many incidents in one process (a daemon): each executePlan or releaseContainment call is its own
// run (its lock, journal, events, abort and provider state); IncidentRun is that run, for callers
// composing their own; IncidentBusyError says another run holds the incident now.
export { IncidentRun, ABORT_GRACE_MS, type RunOptions } from './engine/run.js';
export { runScope } from './engine/run-scope.js';
export { IncidentBusyError } from './engine/incident-lock.js';
export { verifyEvidence, latestManifestKey, type VerifyReport, type VerifyItem } from './evidence/verify.js';
export { statusFromJournal, type StatusReport } from './report/status.js';
export {
  buildSitrep,
  renderSitrepMarkdown,
  renderSitrepText,
  type Sitrep,
  type SitrepFormat,
} from './report/sitrep.js';
export {
  isSlackWebhookUrl,
  renderSitrepSlack,
  sitrepSlackMessage,
  slackEscape,
  slackMessage,
  slackNotice,
  type ChatMessageParts,
  type SlackMessage,
} from './report/slack.js';
export { recordIncidentRoles, type RecordRolesOptions, type RolesInput } from './engine/roles.js';
export { parseCase, readCaseFile, type CaseInput } from './engine/case.js';
export { buildPlan, planDigest } from './engine/plan.js';
export { assertSignedPlan, assertUsablePlan, signPlan } from './engine/saved-plan.js';
export { foldManifest, serializeManifest, MANIFEST_SCHEMA, type Manifest } from './evidence/manifest.js';
export { checkJournalChain, Journal } from './evidence/journal.js';
export { canonicalJson } from './evidence/canonical-json.js';
export { builtinProviders, createStore } from './engine/registry.js';
export { createFsStore } from '../providers/fs-store/index.js';
export { createS3Store } from '../providers/s3-store/index.js';
// What a caller may inject through `clients` (ExecuteOptions, ReleaseOptions, PlanOptions): each file
// named here declares its entry in `Clients`, so these exports also bring every entry into the types.
export type { Ec2Clients } from '../providers/ec2/client.js';
export type { RdsClients } from '../providers/rds/client.js';
export type { IamClients } from '../providers/iam/client.js';
export type { KubeClient } from '../providers/kubernetes/client.js';
export type { S3Client } from '../providers/s3-store/client.js';
export type { AwsCredentialSource } from './aws/config.js';
export type { STSClient } from './aws/client.js';
export { assertAwsCommandAllowed, assertKubeRequestAllowed, GuardRefusal } from './core/guard.js';
export { guardAwsClient } from './aws/guard-client.js';
export * from './core/errors.js';
export type { CaptureEvent, CaptureStatus } from './core/events.js';
export type * from './core/types.js';
export { PHASES, PLAN_SCHEMA } from './core/types.js';
// The watch daemon's path, for bots and daemons of their own: a message body → findings → a decision → a capture.
export { handleFinding, type HandleOptions, type FindingResult } from './watch/handle.js';
export { normaliseMessage } from './watch/normalise.js';
export { parseWatchRules, readWatchRules, decideFinding, type WatchRules, type Decision } from './watch/rules.js';
export { incidentFor } from './watch/incident-for.js';
export { FindingRejected, type Finding, type AffectedResource, type FindingSource } from './watch/finding.js';
export { CAPTURE_REQUEST_SCHEMA } from './watch/capture-request.js';
