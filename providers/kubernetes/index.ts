/** The Kubernetes provider: quarantine the suspect pod instead of killing it, and capture it. */
import { InternalError } from '../../src/errors.js';
import type { Provider, StepContext, StepOutcome } from '../../src/types.js';
import { KUBE_POLICY } from './client.js';
import { discoverKube } from './discover.js';
import type { KubeFacts, KubeParams } from './facts.js';
import { kubeFlags, parseKubeParams } from './params.js';
import { kubeDerivedTargets, planKube } from './plan.js';
import { preflightKube } from './preflight.js';
import { releaseKube } from './release.js';
import { runCheckpoint, runCollect, runCordon, runNodeRecord, runOrphan, runProtect, runQuarantinePolicy } from './run.js';

const RUNNERS: Record<string, (ctx: StepContext) => Promise<StepOutcome>> = {
  protect: runProtect,
  collect: runCollect,
  checkpoint: runCheckpoint,
  'quarantine-policy': runQuarantinePolicy,
  orphan: runOrphan,
  'node-record': runNodeRecord,
  cordon: runCordon,
};

export const kubernetesProvider = {
  id: 'kubernetes',
  summary: 'Kubernetes pods: keep the suspect pod running but cut off and protected; record it, its owners, events and logs',
  flags: kubeFlags,
  policies: [KUBE_POLICY, 'policies/kubernetes/checkpoint-role.yaml'],
  example: 'evidence capture --incident IR-2026-0042 --pod shop/web-7d9f8-abcde --forensic-cidr 203.0.113.7/32',
  parseParams: parseKubeParams,
  discover: discoverKube,
  plan: planKube,
  derivedTargets: kubeDerivedTargets,
  preflight: preflightKube,
  async run(step, ctx) {
    const runner = RUNNERS[step.action];
    if (!runner) throw new InternalError(`kubernetes has no action ${step.action}`);
    return runner(ctx);
  },
  release: releaseKube,
} satisfies Provider<KubeParams, KubeFacts>;
