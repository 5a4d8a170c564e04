/**
 * A stand-in for the one kubelet endpoint the log path needs: `GET /containerLogs/{ns}/{pod}/{container}`
 * over HTTPS. No kubelet can run here (it needs a container runtime), yet pod logs are evidence:
 * with this, a test's log request goes through the real kube-apiserver — authorisation, node
 * lookup, proxying, streaming — and only the last hop is played by the test, as envtest plays the
 * controllers. It can also cut a stream mid-way, a fault a healthy kubelet will not produce on cue.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeServer } from './kube.js';
import { MERGE, ok } from './kubernetes.js';

/** What the stand-in answers per `ns/pod/container` (and `…?previous`): bytes, or `cut` to drop the connection after `bytes`. */
export type ContainerLog = Buffer | { cut: Buffer };

export interface KubeletLogs {
  port: number;
  /** Every path the API server asked for, with its query, in order. */
  requests: string[];
  stop(): Promise<void>;
}

/** A throw-away self-signed certificate: the API server does not verify kubelets without --kubelet-certificate-authority. */
function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'hf-kubelet-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=kubelet', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Serve `logs` (keys `ns/pod/container` or `ns/pod/container?previous`) on a loopback port. */
export async function startKubeletLogs(logs: Record<string, ContainerLog>): Promise<KubeletLogs> {
  const requests: string[] = [];
  const server: Server = createServer(selfSignedCertificate(), (req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const key = match ? `${match[1]}/${match[2]}/${match[3]}${url.searchParams.get('previous') === 'true' ? '?previous' : ''}` : '';
    const log = logs[key];
    if (!log) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no log for ${key || url.pathname}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (Buffer.isBuffer(log)) {
      res.end(log);
      return;
    }
    // A kubelet that dies mid-log: the first bytes arrive, then the connection drops.
    res.write(log.cut, () => setTimeout(() => res.socket?.destroy(), 50));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Point a node at the stand-in: the API server reaches a node's kubelet at its reported address and port. */
export async function reportKubeletEndpoint(kube: KubeServer, node: string, port: number): Promise<void> {
  await ok(kube, 'PATCH', `/api/v1/nodes/${node}/status`, { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } }, MERGE);
}
