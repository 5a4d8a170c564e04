/** Pure builders of the objects holdfast creates (quarantine NetworkPolicy and PDB) and the checks that an existing one is ours. */
import { createHash } from 'node:crypto';
import type { JsonObject, PortRange } from '../../src/core/types.js';
import { QUARANTINE_LABEL, QUARANTINE_POD_LABEL, type PodFacts } from './facts.js';

/** Kubernetes object names are DNS subdomains: at most 253 characters. */
export const MAX_OBJECT_NAME_LENGTH = 253;
/** Hex characters of the pod-name digest that keep a shortened name unique. */
const NAME_SUFFIX_LENGTH = 10;

/** `holdfast-<incident>-<pod>`, lower-case; shortened with a digest of the pod name when too long, so names never collide. */
export function quarantineObjectName(incident: string, pod: string): string {
  const name = `holdfast-${incident}-${pod}`.toLowerCase();
  if (name.length <= MAX_OBJECT_NAME_LENGTH) return name;
  const suffix = createHash('sha256').update(pod).digest('hex').slice(0, NAME_SUFFIX_LENGTH);
  return `${name.slice(0, MAX_OBJECT_NAME_LENGTH - NAME_SUFFIX_LENGTH - 1).replace(/[-.]+$/, '')}-${suffix}`;
}

/** The labels quarantine adds to the pod: the policy selects the first, the pod's own PDB both. */
export function quarantineLabels(incident: string, pod: Pick<PodFacts, 'uid'>): Record<string, string> {
  return { [QUARANTINE_LABEL]: incident, [QUARANTINE_POD_LABEL]: pod.uid };
}

/** The quarantine NetworkPolicy: Ingress and Egress both listed; ingress only from the forensic CIDRs; no egress. */
export function quarantinePolicy(
  name: string,
  incident: string,
  forensicCidrs: readonly string[],
  ports?: readonly PortRange[],
): JsonObject {
  const from = forensicCidrs.map((cidr) => ({ ipBlock: { cidr } }));
  const portList = (ports ?? []).map((p) => ({
    protocol: 'TCP',
    port: p.from,
    ...(p.to !== p.from ? { endPort: p.to } : {}),
  }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, labels: { [QUARANTINE_LABEL]: incident } },
    spec: {
      podSelector: { matchLabels: { [QUARANTINE_LABEL]: incident } },
      policyTypes: ['Ingress', 'Egress'],
      // Replies to forensic connections are allowed by the policy's statefulness, not by an egress rule.
      ingress: from.length ? [{ from, ...(portList.length ? { ports: portList } : {}) }] : [],
      egress: [],
    },
  };
}

/** The pod's PodDisruptionBudget: integer minAvailable (a percentage needs a controller, which the pod no longer has). */
export function quarantinePdb(name: string, incident: string, pod: Pick<PodFacts, 'uid'>): JsonObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, labels: { [QUARANTINE_LABEL]: incident } },
    spec: { minAvailable: 1, selector: { matchLabels: quarantineLabels(incident, pod) } },
  };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Why an object already at our name is not the one we would create, or undefined when it is. An
 * object that only looks like ours (another tool, an edit) must not be taken as proof of isolation.
 */
export function differenceFromWanted(existing: { spec?: object }, wanted: JsonObject): string | undefined {
  const have = (existing.spec ?? {}) as JsonObject;
  const want = wanted.spec as JsonObject;
  if (wanted.kind === 'NetworkPolicy') {
    const h = have.podSelector as JsonObject | undefined;
    if (
      !sameJson(h?.matchLabels, (want.podSelector as JsonObject).matchLabels) ||
      (h?.matchExpressions as unknown[] | undefined)?.length
    )
      return 'it selects other pods';
    if (!sameJson([...((have.policyTypes as string[]) ?? [])].sort(), ['Egress', 'Ingress']))
      return `its policyTypes are ${JSON.stringify(have.policyTypes ?? [])}`;
    if (!sameJson(have.ingress ?? [], want.ingress)) return 'its ingress rules differ';
    if (!sameJson(have.egress ?? [], want.egress)) return 'it allows egress';
    return undefined;
  }
  if (have.minAvailable !== 1) return `its minAvailable is ${JSON.stringify(have.minAvailable ?? null)}`;
  if (!sameJson((have.selector as JsonObject | undefined)?.matchLabels, (want.selector as JsonObject).matchLabels))
    return 'it selects other pods';
  return undefined;
}
