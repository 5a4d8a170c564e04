/**
 * A stand-in for the two kubelet endpoints holdfast reaches through the API server:
 * `GET /containerLogs/{ns}/{pod}/{container}` (pods/log) and `POST /checkpoint/{ns}/{pod}/{container}`
 * (nodes/proxy). No kubelet can run beside the local API server (it needs a container runtime), yet
 * logs and checkpoints are evidence: with this, each request goes through the real kube-apiserver —
 * authorisation, node lookup, proxying, streaming — and only the last hop is played, as envtest
 * plays the controllers. Used by the tests and the drill.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeServer } from './kube.js';

export interface KubeletStandIn {
  /** Where the API server reaches it; the node's status reports this. */
  address: string;
  port: number;
  /** Every request the API server made, as `METHOD path?query`, in order. */
  requests: string[];
  /** `ns/pod/container` keys whose checkpoint succeeds; any other is refused as by a runtime without CRIU. */
  checkpointable: Set<string>;
  stop(): Promise<void>;
}

/** Where a real kubelet leaves a checkpoint archive (the kubelet's default root directory). */
export function checkpointArchivePath(key: string): string {
  const [ns, pod, container] = key.split('/');
  return `/var/lib/kubelet/checkpoints/checkpoint-${pod}_${ns}-${container}-2026-12-03T05:00:00Z.tar`;
}

/**
 * Serve `logs` (keys `ns/pod/container`, or `ns/pod/container?previous` for the earlier instance)
 * and checkpoints, with the API server's own key pair (it does not verify kubelet certificates
 * unless started with --kubelet-certificate-authority). It listens on the machine's own address
 * when there is one: the API server refuses to proxy nodes/proxy requests to loopback.
 */
export async function startKubeletStandIn(
  kube: Pick<KubeServer, 'servingTls' | 'hostAddress'>,
  logs: Record<string, Buffer>,
): Promise<KubeletStandIn> {
  const requests: string[] = [];
  const checkpointable = new Set<string>();
  const server = createServer(kube.servingTls, (req, res) => {
    requests.push(`${req.method} ${req.url ?? ''}`);
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const match = /^\/(containerLogs|checkpoint)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const key = match ? `${match[2]}/${match[3]}/${match[4]}` : '';
    if (match?.[1] === 'checkpoint' && req.method === 'POST') {
      if (checkpointable.has(key))
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ items: [checkpointArchivePath(key)] }));
      else
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end('checkpoint/restore support not available in the container runtime');
      return;
    }
    const log =
      match?.[1] === 'containerLogs'
        ? logs[`${key}${url.searchParams.get('previous') === 'true' ? '?previous' : ''}`]
        : undefined;
    if (!log) res.writeHead(404, { 'content-type': 'text/plain' }).end(`nothing at ${url.pathname}`);
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(log);
  });
  const address = kube.hostAddress ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, resolve);
  });
  return {
    address,
    port: (server.address() as AddressInfo).port,
    requests,
    checkpointable,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Point a node at the stand-in: the API server reaches a node's kubelet at its reported address and port. */
export async function reportKubeletEndpoint(
  kube: Pick<KubeServer, 'call'>,
  node: string,
  kubelet: Pick<KubeletStandIn, 'address' | 'port'>,
): Promise<void> {
  const status = {
    addresses: [{ type: 'InternalIP', address: kubelet.address }],
    daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } },
  };
  const res = await kube.call(
    'PATCH',
    `/api/v1/nodes/${node}/status`,
    { status },
    'admin',
    'application/merge-patch+json',
  );
  if (res.status >= 300) throw new Error(`PATCH node ${node} status: ${res.status}`);
}
