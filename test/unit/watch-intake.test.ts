/** The watch daemon's intake: each source's published shape normalises to one Finding; bad bodies are refused with a reason. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normaliseMessage } from '../../src/watch/normalise.js';
import { FindingRejected, MAX_FINDING_BYTES } from '../../src/watch/finding.js';

const fixture = (name: string) => readFileSync(new URL(`fixtures/watch/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(fixture(name)) as Record<string, unknown>;

function rejected(body: string): FindingRejected {
  try {
    normaliseMessage(body);
  } catch (error) {
    expect(error).toBeInstanceOf(FindingRejected);
    return error as FindingRejected;
  }
  throw new Error('expected the body to be refused');
}

describe('watch intake normalisers', () => {
  it('reads a GuardDuty EventBridge event (camelCase detail): instance, tags, severity, not a sample', () => {
    const [f] = normaliseMessage(fixture('guardduty-ec2.eventbridge.json'));
    expect(f).toMatchObject({
      source: 'guardduty',
      id: '16afba5c5c43e07c9e3e5e2e544e95df',
      types: ['UnauthorizedAccess:EC2/MaliciousIPCaller.Custom'],
      severity: 8,
      account: '123456789012',
      region: 'us-east-1',
      sample: false,
      active: true,
      updatedAt: '2026-12-07T22:10:04.000Z',
      tags: { Environment: 'prod', Name: 'web-1' },
      resources: [{ kind: 'ec2-instance', account: '123456789012', region: 'us-east-1', instanceId: 'i-99999999' }],
    });
  });

  it("reads the SDK's PascalCase GuardDuty finding (GetFindings) the same way: an IAM user's access key", () => {
    const [f] = normaliseMessage(fixture('guardduty-sdk.json'));
    expect(f).toMatchObject({
      source: 'guardduty',
      severity: 5,
      types: ['UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom'],
      resources: [{ kind: 'iam-user', account: '123456789012', name: 'deploy-bot' }],
    });
  });

  it('reads a GuardDuty EKS finding as a pod and marks additionalInfo.sample', () => {
    const [f] = normaliseMessage(fixture('guardduty-eks-sample.eventbridge.json'));
    expect(f!.sample).toBe(true);
    expect(f!.resources).toEqual([
      { kind: 'pod', cluster: 'prod-eu', namespace: 'kube-system', pod: 'coredns-5d78c9869d-7tq2x' },
    ]);
  });

  it('reads Security Hub ASFF (Imported): the instance from its ARN, Resources[].Tags, Label/Normalized severity', () => {
    const [f] = normaliseMessage(fixture('securityhub-imported.eventbridge.json'));
    expect(f).toMatchObject({
      source: 'securityhub',
      severity: 8,
      account: '123456789012',
      tags: { Environment: 'prod', team: 'payments' },
      resourceType: 'AwsEc2Instance',
      resources: [
        { kind: 'ec2-instance', account: '123456789012', region: 'us-east-1', instanceId: 'i-0a1b2c3d4e5f67890' },
      ],
      sample: false,
      active: true,
    });
  });

  it('reads the Custom Action event: every finding of the selection; a sample product field and a RESOLVED workflow are marked', () => {
    const findings = normaliseMessage(fixture('securityhub-custom-action.eventbridge.json'));
    expect(findings).toHaveLength(2);
    expect(findings[0]).toMatchObject({ sample: true, resources: [{ kind: 'iam-role', name: 'web-role' }] });
    expect(findings[1]).toMatchObject({
      active: false,
      severity: 3,
      resources: [{ instanceId: 'i-0fedcba9876543210' }],
    });
  });

  it('reads the OCSF-based v2 event (Findings Imported V2)', () => {
    const [f] = normaliseMessage(fixture('securityhub-v2-ocsf.eventbridge.json'));
    expect(f).toMatchObject({
      source: 'securityhub',
      types: ['CryptoCurrency:EC2/BitcoinTool.B!DNS'],
      severity: 7,
      account: '123456789012',
      region: 'us-west-2',
      resources: [{ kind: 'ec2-instance', region: 'us-west-2', instanceId: 'i-0123456789abcdef1' }],
    });
  });

  it('reads a Falcosidekick body: rule, priority, the pod from output_fields, the cluster from the daemon when absent', () => {
    const [f] = normaliseMessage(fixture('falcosidekick.json'), { cluster: 'prod-eu' });
    expect(f).toMatchObject({
      source: 'falco',
      id: '0f7a9c53-2c7b-4a3e-9d6e-1b2c3d4e5f60',
      types: ['Terminal shell in container'],
      priority: 'Critical',
      severity: 8,
      resources: [{ kind: 'pod', cluster: 'prod-eu', namespace: 'shop', pod: 'checkout-7d9f8b6c5-x2x9q' }],
    });
    const upper = { ...json('falcosidekick.json'), priority: 'CRITICAL' };
    expect(normaliseMessage(JSON.stringify(upper))[0]!.priority).toBe('Critical');
  });

  it("reads holdfast's own capture request, with commander and responders", () => {
    const [f] = normaliseMessage(fixture('capture-request.json'));
    expect(f).toMatchObject({
      source: 'request',
      severity: 8,
      commander: 'Dana Reyes',
      responders: ['Sam Okafor', 'Lee Chen'],
      requestedAction: 'contain',
      resources: [{ kind: 'ec2-instance', instanceId: 'i-0a1b2c3d4e5f67890' }],
    });
  });

  it('refuses an oversized body before parsing it', () => {
    const e = rejected(JSON.stringify({ padding: 'x'.repeat(MAX_FINDING_BYTES) }));
    expect(e.reason).toBe('oversized');
    expect(e.code).toBe('BAD_INPUT');
  });

  it('refuses bodies that are not JSON, not objects, or from no known source, with a reason', () => {
    expect(rejected('{"detail": ').reason).toBe('malformed');
    expect(rejected('[1,2]').reason).toBe('malformed');
    expect(
      rejected(JSON.stringify({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' })).reason,
    ).toBe('unknown-source');
    expect(
      rejected(
        JSON.stringify({ source: 'aws.guardduty', 'detail-type': 'GuardDuty Runtime Protection Healthy', detail: {} }),
      ).reason,
    ).toBe('unknown-source');
    expect(rejected(JSON.stringify({ schema: 'holdfast/capture-request@9', id: 'x' })).reason).toBe('unknown-source');
  });

  it('treats finding fields as untrusted input: bad ids, path tricks, control characters and unknown request fields are named', () => {
    const gd = json('guardduty-ec2.eventbridge.json');
    const detail = gd.detail as Record<string, Record<string, unknown>>;
    (detail.resource!.instanceDetails as Record<string, unknown>).instanceId = 'i-../../etc';
    detail.accountId = '12345' as never;
    const e = rejected(JSON.stringify(gd));
    expect(e.reason).toBe('malformed');
    expect(e.problems.map((p) => p.field)).toEqual(['detail.accountId', 'detail.resource.instanceDetails.instanceId']);

    const falco = json('falcosidekick.json');
    (falco.output_fields as Record<string, unknown>)['k8s.pod.name'] = 'Evil Pod; rm -rf /';
    (falco as Record<string, unknown>).rule = 'line\nbreak';
    const fe = rejected(JSON.stringify(falco));
    expect(fe.problems.map((p) => p.field).sort()).toEqual(['output_fields.k8s.pod.name', 'rule']);

    const request = { ...json('capture-request.json'), approveEverything: true, title: 'y'.repeat(2000) };
    const re = rejected(JSON.stringify(request));
    expect(re.problems.map((p) => p.field).sort()).toEqual(['approveEverything', 'title']);
  });

  it('refuses more findings or resources than it will act on at once', () => {
    const sh = json('securityhub-imported.eventbridge.json');
    const finding = (sh.detail as { findings: unknown[] }).findings[0];
    (sh.detail as { findings: unknown[] }).findings = Array.from({ length: 21 }, () => finding);
    expect(rejected(JSON.stringify(sh)).reason).toBe('oversized');
  });
});
