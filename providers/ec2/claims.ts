/** What the EC2 provider recognises among other providers' findings: the instances behind EKS nodes. */
import type { MachineClaim } from '../../src/core/claims.js';

/** An EKS node's `spec.providerID`: `aws:///us-east-1a/i-0abc…`. */
const AWS_PROVIDER_ID = /^aws:\/\/\/[^/]*\/(i-[0-9a-f]+)$/;

/** The EC2 instance id an EKS providerID names, or undefined for any other providerID. */
export function machineFromProviderId(providerID: string): string | undefined {
  return AWS_PROVIDER_ID.exec(providerID)?.[1];
}

/** With --isolate-node, the instances behind the nodes are preserved, snapshotted and isolated like --instance. */
export const ec2MachineClaim: MachineClaim = {
  fromProviderId: machineFromProviderId,
  targets: (instances) => ({ instances }),
  words: {
    cloud: 'AWS',
    noun: 'EC2 instance',
    short: 'EC2',
    does: 'preserves, snapshots and isolates it',
    notes: [
      "the EKS VPC CNI does not enforce NetworkPolicies on pods without an owner — which is what taking the pod out of its controller produces (the controller releases it); use --isolate-node to isolate the node's EC2 instance as well",
    ],
  },
};
