/**
 * A queue message's body → findings: refused when oversized or not JSON, then handed to the one
 * normaliser whose source shape it has. A body no normaliser recognises is `unknown-source`.
 */
import { FindingRejected, MAX_FINDING_BYTES, MAX_RESOURCES_PER_FINDING, type Finding } from './finding.js';
import { looksLikeSdkGuardDutyFinding, normaliseGuardDuty } from './normalise-guardduty.js';
import { normaliseAsff, normaliseOcsf } from './normalise-securityhub.js';
import { looksLikeFalco, normaliseFalco } from './normalise-falco.js';
import { CAPTURE_REQUEST_SCHEMA, normaliseCaptureRequest } from './capture-request.js';

/** Options for reading a body: the cluster Falco findings belong to when the body does not say. */
export interface NormaliseOptions {
  cluster?: string;
}

/** Every finding in one message body (EventBridge events from Security Hub may carry several). */
export function normaliseMessage(body: string, options: NormaliseOptions = {}): Finding[] {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_FINDING_BYTES)
    throw new FindingRejected('oversized', {
      field: '',
      message: `the message is ${bytes} bytes, more than ${MAX_FINDING_BYTES}`,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new FindingRejected('malformed', {
      field: '',
      message: `not JSON: ${(error as Error).message.slice(0, 120)}`,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new FindingRejected('malformed', { field: '', message: 'expected a JSON object' });
  const o = parsed as Record<string, unknown>;
  const detailType = o['detail-type'];
  if (o.source === 'aws.guardduty') {
    if (detailType !== 'GuardDuty Finding')
      throw new FindingRejected('unknown-source', {
        field: 'detail-type',
        message: `${JSON.stringify(detailType)} is not a GuardDuty finding event`,
        continues: true,
      });
    return [normaliseGuardDuty(o.detail, 'detail')];
  }
  if (o.source === 'aws.securityhub') {
    const detail = (o.detail ?? {}) as Record<string, unknown>;
    const findings = detail.findings;
    if (!Array.isArray(findings) || !findings.length)
      throw new FindingRejected('malformed', { field: 'detail.findings', message: 'expected a list of findings' });
    if (findings.length > MAX_RESOURCES_PER_FINDING)
      throw new FindingRejected('oversized', {
        field: 'detail.findings',
        message: `${findings.length} findings in one event, more than ${MAX_RESOURCES_PER_FINDING}`,
      });
    if (detailType === 'Findings Imported V2') return findings.map((f, i) => normaliseOcsf(f, `detail.findings[${i}]`));
    if (detailType === 'Security Hub Findings - Imported' || detailType === 'Security Hub Findings - Custom Action')
      return findings.map((f, i) => normaliseAsff(f, `detail.findings[${i}]`));
    throw new FindingRejected('unknown-source', {
      field: 'detail-type',
      message: `${JSON.stringify(detailType)} is not a Security Hub findings event`,
      continues: true,
    });
  }
  if (o.schema === CAPTURE_REQUEST_SCHEMA) return [normaliseCaptureRequest(o)];
  if (typeof o.schema === 'string' && o.schema.startsWith('holdfast/capture-request@'))
    throw new FindingRejected('unknown-source', {
      field: 'schema',
      message: `${JSON.stringify(o.schema)}: this holdfast reads ${CAPTURE_REQUEST_SCHEMA}`,
      continues: true,
    });
  if (looksLikeFalco(o)) return [normaliseFalco(o, options.cluster)];
  if (looksLikeSdkGuardDutyFinding(o)) return [normaliseGuardDuty(o, '')];
  throw new FindingRejected('unknown-source', {
    field: '',
    message: `not a finding this daemon reads (GuardDuty or Security Hub through EventBridge, Falcosidekick, or ${CAPTURE_REQUEST_SCHEMA}); source ${JSON.stringify(String(o.source ?? '').slice(0, 64))}`,
  });
}
