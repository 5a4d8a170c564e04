/**
 * A stand-in for the one kubelet endpoint the log path needs: `GET /containerLogs/{ns}/{pod}/{container}`
 * over HTTPS. No kubelet can run beside the local API server (it needs a container runtime), yet
 * pod logs are evidence: with this, a log request goes through the real kube-apiserver —
 * authorisation, node lookup, proxying, streaming — and only the last hop is played, as envtest
 * plays the controllers. Used by the tests and the drill.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeServer } from './kube.js';

export interface KubeletLogs {
  port: number;
  /** Every path the API server asked for, with its query, in order. */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * Serve `logs` (keys `ns/pod/container`, or `ns/pod/container?previous` for the earlier instance)
 * on a loopback port, with the API server's own key pair: the API server does not verify kubelet
 * certificates unless started with --kubelet-certificate-authority.
 */
export async function startKubeletLogs(kube: Pick<KubeServer, 'servingTls'>, logs: Record<string, Buffer>): Promise<KubeletLogs> {
  const requests: string[] = [];
  const server = createServer(kube.servingTls, (req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const key = match ? `${match[1]}/${match[2]}/${match[3]}${url.searchParams.get('previous') === 'true' ? '?previous' : ''}` : '';
    const log = logs[key];
    if (!log) res.writeHead(404, { 'content-type': 'text/plain' }).end(`no log for ${key || url.pathname}`);
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(log);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Point a node at the stand-in: the API server reaches a node's kubelet at its reported address and port. */
export async function reportKubeletEndpoint(kube: Pick<KubeServer, 'call'>, node: string, port: number): Promise<void> {
  const res = await kube.call('PATCH', `/api/v1/nodes/${node}/status`, { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } }, 'admin', 'application/merge-patch+json');
  if (res.status >= 300) throw new Error(`PATCH node ${node} status: ${res.status}`);
}
