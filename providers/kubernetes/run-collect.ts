/** Collect-phase steps: the pod and everything around it as JSON, its events and logs; the node; kubelet checkpoints. */
import { RemoteError } from '../../src/core/errors.js';
import type { JsonObject, StepContext } from '../../src/core/types.js';
import {
  checkpointPath,
  eventsPath,
  networkPoliciesPath,
  nodePath,
  ownerPath,
  pdbsPath,
  podPath,
  servicesPath,
} from './api-paths.js';
import {
  messageOf,
  type CoreV1Event,
  type KubeClient,
  type KubeList,
  type KubernetesObject,
  type V1NetworkPolicy,
  type V1Node,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1Service,
} from './client.js';
import { kubeClientFor } from './context.js';
import { getObject, listObjects, livePod } from './discover.js';
import type { KubeOutcome, KubeStepContext } from './steps.js';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/**
 * The API server copies the kubelet's log stream and ends its answer normally even when the
 * kubelet's connection drops mid-log (seen against kube-apiserver 1.36): a log cut short by a
 * failing node cannot be told from a complete one, so the manifest says so rather than implying it.
 */
export const LOG_COMPLETENESS_LIMITATION =
  'pod logs are what the kubelet sent through the API server, which ends the stream normally even if the kubelet connection drops: a log cut short by a failing node looks complete; compare the last timestamp with the node';
const now = () => new Date().toISOString();

async function mustGet<T extends KubernetesObject>(client: KubeClient, path: string): Promise<T> {
  const found = await getObject<T>(client, path);
  if (!found) throw new RemoteError(`GET ${path}: it no longer exists`, false);
  return found;
}

/**
 * Whether a container has an earlier instance whose log the kubelet may still keep. Unknown
 * (no status yet) counts as yes: asking costs one request, missing it costs evidence.
 */
function hasPreviousInstance(live: V1Pod, container: string): boolean {
  const statuses = [...(live.status?.initContainerStatuses ?? []), ...(live.status?.containerStatuses ?? [])];
  const status = statuses.find((s) => s.name === container);
  return !status || status.restartCount > 0 || Boolean(status.lastState?.terminated);
}

export async function runCollect(ctx: KubeStepContext<'collect'>): Promise<KubeOutcome<'collect'>> {
  const { pod } = ctx.step.inputs;
  const client = kubeClientFor(ctx);
  const limitations: string[] = [];
  const key = `${pod.namespace}/${pod.name}`;
  const live = await livePod(client, pod);
  const source: JsonObject = {
    kind: 'Pod',
    namespace: pod.namespace,
    name: pod.name,
    uid: pod.uid,
    resourceVersion: live.metadata?.resourceVersion ?? null,
  };
  const put = (
    name: string,
    type: string,
    api: string,
    body: Parameters<StepContext['putArtifact']>[1],
    contentType = 'application/json',
    consistency = 'read at acquiredAt',
  ) => ctx.putArtifact({ name, type, source, acquiredAt: now(), method: { api, consistency }, contentType }, body);

  await put('pod.json', 'k8s-pod', `GET ${podPath(pod.namespace, pod.name)}`, json(live));
  const owners = [];
  for (const o of pod.owners) {
    const path = o.unreadable ? null : ownerPath(pod.namespace, o);
    owners.push(
      path
        ? ((await getObject(client, path)) ?? {
            kind: o.kind,
            name: o.name,
            uid: o.uid,
            missing: true,
          })
        : { kind: o.kind, name: o.name, uid: o.uid, notRead: o.unreadable ?? 'kind not followed' },
    );
  }
  await put('owners.json', 'k8s-owners', 'GET each ownerReference up the chain', json(owners));
  const services = await listObjects<V1Service>(client, servicesPath(pod.namespace));
  await put(
    'services.json',
    'k8s-services',
    `GET ${servicesPath(pod.namespace)} (those selecting the pod)`,
    json(services.filter((s) => pod.services.includes(s.metadata?.name ?? ''))),
  );
  const [policies, pdbs] = await Promise.all([
    listObjects<V1NetworkPolicy>(client, networkPoliciesPath(pod.namespace)),
    listObjects<V1PodDisruptionBudget>(client, pdbsPath(pod.namespace)),
  ]);
  const policyNames = pod.policies.map((p) => p.name);
  await put(
    'policies.json',
    'k8s-policies',
    `GET ${networkPoliciesPath(pod.namespace)}, ${pdbsPath(pod.namespace)} (those selecting the pod)`,
    json({
      networkPolicies: policies.filter((p) => policyNames.includes(p.metadata?.name ?? '')),
      podDisruptionBudgets: pdbs.filter((p) => pod.pdbs.includes(p.metadata?.name ?? '')),
    }),
  );
  // Events expire (one hour by default): collection runs before anything changes the pod.
  const events = await listObjects<CoreV1Event>(client, eventsPath(pod.namespace), {
    fieldSelector: `involvedObject.uid=${pod.uid}`,
  });
  await put(
    'events.json',
    'k8s-events',
    `GET ${eventsPath(pod.namespace)}?fieldSelector=involvedObject.uid`,
    json(events),
  );

  const logsRead: string[] = [];
  for (const container of [...pod.initContainers, ...pod.containers]) {
    for (const previous of [false, true]) {
      if (previous && !hasPreviousInstance(live, container)) continue;
      const which = `${previous ? 'previous' : 'current'} log of ${key} container ${container}`;
      const name = `log-${container}${previous ? '-previous' : ''}.txt`;
      try {
        const res = await client.stream(`${podPath(pod.namespace, pod.name)}/log`, {
          query: { container, timestamps: 'true', ...(previous ? { previous: 'true' } : {}) },
          signal: ctx.signal,
        });
        if (!('stream' in res)) {
          // 5xx here is the API server failing to reach the kubelet, not the API server itself.
          const via = res.status >= 500 ? `the API server could not get it from the kubelet on ${pod.nodeName}: ` : '';
          limitations.push(`${which} could not be captured (${res.status}): ${via}${messageOf(res) || 'no detail'}`);
          continue;
        }
        // Raw bytes from the kubelet straight into the store: logs need not be UTF-8, nor fit in memory.
        const api = `GET pods/log container=${container}${previous ? ' previous=true' : ''} timestamps=true`;
        await put(
          name,
          'k8s-log',
          api,
          res.stream,
          'text/plain',
          'as the kubelet sent it up to acquiredAt; truncation by the node is not detectable',
        );
        logsRead.push(name);
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        // A log is worth having, not worth holding back containment for: record why it is missing.
        limitations.push(`${which} could not be captured: ${(error as Error).message}`);
      }
    }
  }
  if (logsRead.length) limitations.push(LOG_COMPLETENESS_LIMITATION);
  return { outputs: { logsRead, events: events.length }, limitations };
}

/** Ask the kubelet to checkpoint each container; the archive stays on the node, so its location is what gets recorded. */
export async function runCheckpoint(ctx: KubeStepContext<'checkpoint'>): Promise<KubeOutcome<'checkpoint'>> {
  const { pod } = ctx.step.inputs;
  const client = kubeClientFor(ctx);
  const limitations: string[] = [];
  const archives: string[] = [];
  for (const c of pod.containers) {
    const path = checkpointPath(pod.nodeName!, pod.namespace, pod.name, c);
    const what = `checkpoint of ${pod.namespace}/${pod.name}/${c}`;
    try {
      // The kubelet answers with the archives' paths on the node.
      const res = await client.send<KubeList<string>>('POST', path);
      const items = res.status === 200 && Array.isArray(res.body?.items) ? res.body.items : [];
      if (!items.length) {
        limitations.push(`${what} refused by the kubelet (${res.status}): ${messageOf(res) ?? res.text.slice(0, 200)}`);
        continue;
      }
      for (const archive of items) {
        ctx.recordArtifact({
          name: `checkpoint-${c}`,
          type: 'k8s-checkpoint',
          source: { kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid, container: c },
          acquiredAt: now(),
          location: { node: pod.nodeName, path: archive },
          method: {
            api: `POST ${path}`,
            note: 'the archive stays on the node: copy it off before the node is recycled',
          },
        });
        archives.push(archive);
      }
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      // Most runtimes lack checkpoint support, and without a kubelet there is no answer at all.
      limitations.push(`${what} failed: ${error.message}`);
    }
  }
  return { outputs: { archivesOnNode: archives }, limitations };
}

/** Record the node as JSON; its providerID names its machine (the provider that recognises it isolates it for --isolate-node). */
export async function runNodeRecord(ctx: KubeStepContext<'node-record'>): Promise<KubeOutcome<'node-record'>> {
  const { node } = ctx.step.inputs;
  const live = await mustGet<V1Node>(kubeClientFor(ctx), nodePath(node.name));
  await ctx.putArtifact(
    {
      name: 'node.json',
      type: 'k8s-node',
      source: {
        kind: 'Node',
        name: node.name,
        uid: live.metadata?.uid ?? null,
        resourceVersion: live.metadata?.resourceVersion ?? null,
        providerID: node.providerID,
      },
      acquiredAt: now(),
      method: { api: `GET ${nodePath(node.name)}` },
      contentType: 'application/json',
    },
    json(live),
  );
  return { outputs: { providerID: node.providerID, instanceId: node.instanceId } };
}
