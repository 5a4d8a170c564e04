/**
 * Findings and claims: the Kubernetes provider says what it found without naming a cloud; the
 * registered providers' claims decide who owns it (engine/claims.ts). Pure, no servers.
 */
import { describe, expect, it } from 'vitest';
import type { Finding, MachineFinding } from '../../src/core/claims.js';
import type { Case } from '../../src/core/types.js';
import { claimantsOf, claimedTargets, wantedRoleAnnotations } from '../../src/engine/claims.js';
import { buildPlan } from '../../src/engine/plan.js';
import { builtinProviders } from '../../src/engine/registry.js';
import { machineFromProviderId } from '../../providers/ec2/claims.js';
import { IRSA_ROLE_ANNOTATION } from '../../providers/iam/claims.js';
import type { KubeFacts, PodFacts } from '../../providers/kubernetes/facts.js';
import { kubernetesProvider } from '../../providers/kubernetes/index.js';
import { kubeFindings } from '../../providers/kubernetes/plan.js';
import { barePod, kubeCase, kubeParams } from './kube-fixtures.js';

const ROLE = 'arn:aws:iam::123456789012:role/web';
const kase = (targets: Case['targets'] = { kubernetes: {} }): Case => kubeCase('IR-CLAIMS', { targets });
const pod = (name: string, extra: Partial<PodFacts> = {}): PodFacts =>
  barePod(name, { resourceVersion: '1', ...extra });

function kubeFacts(providerIDs: (string | null)[], extra: Partial<KubeFacts> = {}, hostNetwork = false): KubeFacts {
  return {
    params: kubeParams([pod('web')], { isolateNode: true }),
    pods: [pod('web', { hostNetwork })],
    nodes: providerIDs.map((providerID, i) => ({
      name: `node-${i + 1}`,
      uid: `u${i}`,
      unschedulable: false,
      providerID,
    })),
    ...extra,
  };
}

describe('machines behind Kubernetes nodes', () => {
  it('an aws:/// providerID is an EC2 instance of the ec2 provider, which gets it as a target', () => {
    expect(machineFromProviderId('aws:///us-east-1a/i-0abc1234def567890')).toBe('i-0abc1234def567890');
    expect(claimantsOf(builtinProviders).machine('aws:///us-east-1a/i-0abc')).toEqual({
      provider: 'ec2',
      id: 'i-0abc',
      noun: 'EC2 instance',
      short: 'EC2',
      does: 'preserves, snapshots and isolates it',
    });
    const first: MachineFinding = { kind: 'machine', providerID: 'aws:///us-east-1a/i-0abc', target: true };
    const findings: Finding[] = [
      first,
      { kind: 'machine', providerID: 'aws:///us-east-1b/i-0def', target: true },
      { kind: 'machine', providerID: 'aws:///us-east-1a/i-0abc', target: true },
    ];
    expect(claimedTargets(findings, builtinProviders)).toEqual({ ec2: { instances: ['i-0abc', 'i-0def'] } });
    // Found but not handed over (no --isolate-node): nobody gets a target.
    expect(claimedTargets([{ ...first, target: false }], builtinProviders)).toEqual({});
  });

  it('a providerID nobody recognises (gce://) adds no target and the plan says why, naming it', () => {
    const gce = 'gce://proj/us-central1-a/gke-node-1';
    expect(machineFromProviderId(gce)).toBeUndefined();
    expect(claimantsOf(builtinProviders).machine(gce)).toBeUndefined();
    const facts = kubeFacts([gce], {}, true);
    expect(claimedTargets(kubeFindings(facts), builtinProviders)).toEqual({});
    const plan = buildPlan(kase(), new Map([['kubernetes', facts]]), builtinProviders);
    expect(plan.limitations).toContain(
      `--isolate-node: node node-1 has no AWS providerID (${gce}); its machine is not isolated`,
    );
    // Its host-network pod stays uncut: the step that makes the capture partial is planned.
    expect(plan.steps.map((s) => s.id)).toContain('kubernetes:host-network/shop/web');
    expect(plan.steps.find((s) => s.id === 'kubernetes:node-record/node-1')?.title).toBe('record node node-1');
  });

  it('the Kubernetes planner names no cloud of its own: without a machine claimant nothing is recognised', () => {
    const facts = kubeFacts(['aws:///us-east-1a/i-0abc']);
    const plan = buildPlan(kase(), new Map([['kubernetes', facts]]), [kubernetesProvider]);
    const text = plan.limitations.join('\n');
    expect(text).not.toMatch(/EC2|EKS|AWS/);
    expect(text).toContain('node node-1 has no recognised providerID (aws:///us-east-1a/i-0abc)');
    expect(claimedTargets(kubeFindings(facts), [kubernetesProvider])).toEqual({});
  });

  it('with the ec2 claimant the node step carries the instance id and the EC2 words', () => {
    const plan = buildPlan(
      kase(),
      new Map([['kubernetes', kubeFacts(['aws:///us-east-1a/i-0abc'])]]),
      builtinProviders,
    );
    const record = plan.steps.find((s) => s.id === 'kubernetes:node-record/node-1');
    expect(record?.title).toBe('record node node-1 (EC2 i-0abc)');
    expect(record?.inputs).toEqual({
      node: {
        name: 'node-1',
        uid: 'u0',
        unschedulable: false,
        providerID: 'aws:///us-east-1a/i-0abc',
        instanceId: 'i-0abc',
      },
    });
    expect(plan.limitations).toContain(
      '--isolate-node: node node-1 is EC2 instance i-0abc (spec.providerID); the ec2 provider preserves, snapshots and isolates it',
    );
  });
});

describe('cloud roles named by service accounts', () => {
  it('service accounts are read only when a provider asks for its annotation (iam: --revoke-pod-roles)', () => {
    expect(wantedRoleAnnotations(kase({ kubernetes: {}, iam: { revokePodRoles: true } }), builtinProviders)).toEqual([
      IRSA_ROLE_ANNOTATION,
    ]);
    expect(wantedRoleAnnotations(kase({ kubernetes: {}, iam: { revokePodRoles: false } }), builtinProviders)).toEqual(
      [],
    );
    expect(wantedRoleAnnotations(kase({ kubernetes: {} }), builtinProviders)).toEqual([]);
  });

  it("a pod's role ARN goes to the iam provider, with every service account naming a role", () => {
    const facts = kubeFacts([], {
      pods: [pod('web', { serviceAccount: 'web' }), pod('plain', { serviceAccount: 'default' })],
      serviceAccountRoles: [
        { serviceAccount: 'ops/deploy', annotation: IRSA_ROLE_ANNOTATION, role: ROLE },
        { serviceAccount: 'shop/web', annotation: IRSA_ROLE_ANNOTATION, role: ROLE },
        {
          serviceAccount: 'shop/gke',
          annotation: 'iam.gke.io/gcp-service-account',
          role: 'x@p.iam.gserviceaccount.com',
        },
      ],
    });
    expect(claimedTargets(kubeFindings(facts), builtinProviders)).toEqual({
      iam: { podRoles: [`shop/web=${ROLE}`], podRoleServiceAccounts: [`ops/deploy=${ROLE}`, `shop/web=${ROLE}`] },
    });
    // An annotation no provider claims goes nowhere; no targeted pod with a role: no iam target.
    const unclaimed = kubeFacts([], {
      pods: [pod('web', { serviceAccount: 'gke' })],
      serviceAccountRoles: [
        {
          serviceAccount: 'shop/gke',
          annotation: 'iam.gke.io/gcp-service-account',
          role: 'x@p.iam.gserviceaccount.com',
        },
      ],
    });
    expect(claimedTargets(kubeFindings(unclaimed), builtinProviders)).toEqual({});
  });
});
