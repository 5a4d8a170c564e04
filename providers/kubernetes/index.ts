/** The Kubernetes provider: quarantine the suspect pod instead of killing it, and capture it. */
import { lazily } from '../../src/core/provider-kit.js';
import type { Provider } from '../../src/core/types.js';
import { KUBE_CHECKPOINT_POLICY, KUBE_IRSA_POLICY, KUBE_POLICY, type KubeFacts, type KubeParams } from './facts.js';
import { kubeFlags, parseKubeParams } from './params.js';
import { kubeFindings, planKube } from './plan.js';
import type { KubeStep } from './steps.js';
import { parseKubeStep } from './parse-step.js';

export const kubernetesProvider = {
  id: 'kubernetes',
  summary:
    'Kubernetes pods: keep the suspect pod running but cut off and protected; record it, its owners, events and logs',
  flags: kubeFlags,
  policies: [KUBE_POLICY, KUBE_CHECKPOINT_POLICY, KUBE_IRSA_POLICY],
  example: 'evidence capture --incident IR-2026-0042 --pod shop/web-7d9f8-abcde --forensic-cidr 203.0.113.7/32',
  parseParams: parseKubeParams,
  plan: planKube,
  savedPlan: { parseStep: parseKubeStep },
  findings: kubeFindings,
  ...lazily(async () => (await import('./impl.js')).implementation),
  // A pod's changes are released together, after predicting what its controllers will do.
  release: {
    many: async (changes, ctx) => (await import('./release.js')).releaseKubeChanges(changes, ctx),
    predict: async (changes, ctx) => (await import('./release.js')).predictKubeRelease(changes, ctx),
  },
} satisfies Provider<KubeParams, KubeFacts, KubeStep>;
