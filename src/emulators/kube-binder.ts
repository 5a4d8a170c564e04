/**
 * A scheduler and kubelet stand-in for the real controllers (kube-controller-manager) beside the
 * local API server: controllers create pods, but nothing would bind them to a node, start them or
 * keep the nodes' heartbeat. This binds each pending pod to the node its template names
 * (`kubernetes.io/hostname` node selector, or a DaemonSet's `metadata.name` node affinity), reports
 * it Running and Ready, and keeps every node Ready so the node lifecycle controller does not taint
 * them and evict. Graceful deletes are left unfinished: a pod the controllers tried to delete keeps
 * its deletionTimestamp, which is exactly what tests look for.
 */
import type { KubeServer } from './kube.js';

/** How often pending pods are looked for: short enough that controllers see Running pods promptly. */
const POLL_MS = 300;
/** Node heartbeats: well inside the node lifecycle controller's grace period (50 s). */
const HEARTBEAT_MS = 10_000;
const MERGE = 'application/merge-patch+json';

export interface KubeBinder {
  /** Pods bound, as `ns/name → node`, in order. */
  bound: string[];
  stop(): Promise<void>;
}

/** The parts of a pod the stand-in reads. */
interface PodView {
  metadata: { namespace: string; name: string; deletionTimestamp?: string };
  spec: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    containers: { name: string; image?: string }[];
    affinity?: {
      nodeAffinity?: {
        requiredDuringSchedulingIgnoredDuringExecution?: {
          nodeSelectorTerms?: { matchFields?: { key: string; operator: string; values?: string[] }[] }[];
        };
      };
    };
  };
}
const itemsOf = <T>(body: unknown): T[] => (body as { items?: T[] } | undefined)?.items ?? [];

/** The node a pod asks for, or undefined when it names none (it then stays Pending). */
export function wantedNode(pod: PodView): string | undefined {
  const byLabel = pod.spec.nodeSelector?.['kubernetes.io/hostname'];
  if (byLabel) return byLabel;
  const terms =
    pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms)
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In') return f.values?.[0];
  return undefined;
}

function runningStatus(pod: PodView, now: string): object {
  const ready = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
  return {
    status: {
      phase: 'Running',
      startTime: now,
      podIP: '10.244.0.10',
      hostIP: '10.255.0.1',
      conditions: [ready('PodScheduled'), ready('Initialized'), ready('ContainersReady'), ready('Ready')],
      containerStatuses: pod.spec.containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    },
  };
}

/** Start binding and reporting pods, and keeping nodes Ready, until stopped. */
export function startKubeBinder(kube: Pick<KubeServer, 'call'>): KubeBinder {
  const bound: string[] = [];
  let stopped = false;
  let lastBeat = 0;
  const tick = async () => {
    const now = new Date().toISOString();
    if (Date.now() - lastBeat > HEARTBEAT_MS) {
      lastBeat = Date.now();
      const nodes = itemsOf<{ metadata: { name: string } }>((await kube.call('GET', '/api/v1/nodes')).body);
      for (const n of nodes)
        await kube.call(
          'PATCH',
          `/api/v1/nodes/${n.metadata.name}/status`,
          {
            status: {
              conditions: [
                {
                  type: 'Ready',
                  status: 'True',
                  reason: 'KubeletReady',
                  lastHeartbeatTime: now,
                  lastTransitionTime: now,
                },
              ],
            },
          },
          'admin',
          MERGE,
        );
    }
    const pods = itemsOf<PodView>((await kube.call('GET', '/api/v1/pods?fieldSelector=status.phase%3DPending')).body);
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const { namespace: ns, name } = pod.metadata;
      let node: string | undefined = pod.spec.nodeName;
      if (!node) {
        node = wantedNode(pod);
        if (!node) continue;
        const res = await kube.call('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name },
          target: { apiVersion: 'v1', kind: 'Node', name: node },
        });
        if (res.status >= 300) continue;
        bound.push(`${ns}/${name} → ${node}`);
      }
      await kube.call('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, runningStatus(pod, now), 'admin', MERGE);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await tick().catch(() => {
        // the API server may be stopping; the next tick tries again
      });
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  return {
    bound,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
