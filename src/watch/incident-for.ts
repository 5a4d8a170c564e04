/**
 * One incident per affected resource: the incident id is derived from what makes the resource one
 * thing (account, region, instance; cluster, namespace, pod; account and principal), never from the
 * finding id, so re-published, updated and repeated findings about it land in the same incident.
 */
import { createHash } from 'node:crypto';
import { assertIncidentId } from '../core/incident-id.js';
import type { CaseInput } from '../engine/case.js';
import type { AffectedResource, Finding } from './finding.js';
import { caseSeverity, type Decision, type WatchRules } from './rules.js';

/** The resource's identity as one line of text (also shown in logs). */
export function resourceKey(resource: AffectedResource): string {
  switch (resource.kind) {
    case 'ec2-instance':
      return `ec2:${resource.account}:${resource.region}:${resource.instanceId}`;
    case 'pod':
      return `pod:${resource.cluster}:${resource.namespace}:${resource.pod}`;
    case 'iam-user':
    case 'iam-role':
      return `${resource.kind}:${resource.account}:${resource.name}`;
  }
}

const KIND_PREFIX: Record<AffectedResource['kind'], string> = {
  'ec2-instance': 'EC2',
  pod: 'POD',
  'iam-user': 'IAM',
  'iam-role': 'IAM',
};

/** `HF-EC2-<20 hex of SHA-256 of the resource key>`: stable, within the incident id rule (40 characters). */
export function incidentFor(resource: AffectedResource): string {
  const digest = createHash('sha256').update(resourceKey(resource)).digest('hex').slice(0, 20);
  return assertIncidentId(`HF-${KIND_PREFIX[resource.kind]}-${digest}`);
}

/**
 * The case a finding's decision asks for. The incident is named after the first resource; the
 * finding's other resources in the same account (or cluster) are targets of that incident too.
 * `collect` takes the engine's approval path: containment is planned and waits for a person.
 */
export function caseForFinding(
  finding: Finding,
  decision: Decision,
  rules: WatchRules,
  store: string,
): CaseInput & { incident: string } {
  const first = finding.resources[0];
  if (!first) throw new Error('caseForFinding needs a resource');
  const incident = incidentFor(first);
  const instances = finding.resources.filter((r) => r.kind === 'ec2-instance').map((r) => r.instanceId);
  const pods = finding.resources.filter((r) => r.kind === 'pod').map((r) => `${r.namespace}/${r.pod}`);
  const principals = (kind: 'iam-user' | 'iam-role') =>
    finding.resources.flatMap((r) => (r.kind === kind && 'name' in r ? [r.name] : []));
  const users = principals('iam-user');
  const roles = principals('iam-role');
  const region = first.kind === 'ec2-instance' ? first.region : finding.region;
  const account = 'account' in first ? first.account : undefined;
  const targets: Record<string, Record<string, string[]>> = {};
  if (instances.length) targets.ec2 = { instances };
  if (pods.length) targets.kubernetes = { pods };
  if (users.length || roles.length)
    targets.iam = { ...(users.length ? { users } : {}), ...(roles.length ? { roles } : {}) };
  const collectOnly = decision.action === 'collect';
  return {
    incident,
    severity: collectOnly ? 'low' : caseSeverity(finding, rules),
    approveContainment: false,
    forensicCidrs: rules.forensicCidrs,
    ...(rules.forensicAccess ? {} : { forensicAccess: false }),
    ...(region ? { region } : {}),
    ...(rules.assumeRole && account ? { assumeRole: rules.assumeRole.replace('{account}', account) } : {}),
    store,
    targets,
    // Who leads and who helps: the request's, else the rules' defaults; they head every sitrep.
    ...((finding.commander ?? rules.commander) ? { commander: finding.commander ?? rules.commander } : {}),
    ...((finding.responders ?? rules.responders).length ? { responders: finding.responders ?? rules.responders } : {}),
  };
}
