/**
 * The only file of the Kubernetes provider that imports client-node: it loads credentials the
 * kubectl way (--kubeconfig, --context, KUBECONFIG, in-cluster) and holdfast sends plain REST calls,
 * each through the do-not-delete guard, with merge-patch content types set explicitly and
 * `dryRun=All` for preflight.
 */
import { request, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { PermissionError, RemoteError } from '../../src/errors.js';
import { assertKubeRequestAllowed } from '../../src/guard.js';

export { KUBE_POLICY } from './facts.js';
import { KUBE_POLICY } from './facts.js';
export const MERGE_PATCH = 'application/merge-patch+json';
/** Per-request timeout. */
export const KUBE_REQUEST_TIMEOUT_MS = 30_000;

export interface KubeResponse {
  status: number;
  body: any;
  text: string;
}

/** A minimal Kubernetes REST client; `onRequest` lets tests record every call. */
export interface KubeClient {
  server: string;
  send(method: string, path: string, options?: { query?: Record<string, string>; body?: unknown; contentType?: string }): Promise<KubeResponse>;
  onRequest?: (method: string, path: string, query: Record<string, string>) => void;
}

/** The RBAC resource and verb a request needs, for permission errors. */
export function rbacOf(method: string, path: string): { verb: string; resource: string } {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  // /api/v1/namespaces/ns/pods/name/log  or  /apis/group/v1/namespaces/ns/kind/name
  const start = parts[0] === 'api' ? 2 : 3;
  let rest = parts.slice(start);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const resource = rest.length >= 3 ? `${rest[0]}/${rest[2]}` : (rest[0] ?? '');
  const named = rest.length >= 2;
  const verb = method === 'GET' ? (named ? 'get' : 'list') : method === 'POST' ? 'create' : method === 'PATCH' ? 'patch' : method === 'PUT' ? 'update' : method.toLowerCase();
  return { verb, resource };
}

/** Build a client from kubeconfig (or in-cluster config when no kubeconfig is found). */
export function createKubeClient(options: { kubeconfig?: string; context?: string; env: NodeJS.ProcessEnv }): KubeClient {
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else if (options.env.KUBECONFIG) kc.loadFromFile(options.env.KUBECONFIG.split(':')[0]!);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new RemoteError('no Kubernetes cluster in the kubeconfig (use --kubeconfig / --context)', false);
  const server = cluster.server.replace(/\/$/, '');
  const client: KubeClient = {
    server,
    async send(method, path, opts = {}) {
      assertKubeRequestAllowed(method, path);
      const query = opts.query ?? {};
      client.onRequest?.(method, path, query);
      const qs = new URLSearchParams(query).toString();
      const url = new URL(`${server}${path}${qs ? `?${qs}` : ''}`);
      const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const requestOptions: RequestOptions = {
        method,
        headers: { accept: 'application/json', ...(payload ? { 'content-type': opts.contentType ?? 'application/json' } : {}) },
        timeout: KUBE_REQUEST_TIMEOUT_MS,
      };
      await kc.applyToHTTPSOptions(requestOptions);
      const send = url.protocol === 'http:' ? httpRequest : request;
      const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = send(url, requestOptions, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (d) => (text += d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
        });
        req.on('timeout', () => req.destroy(Object.assign(new Error(`timeout after ${KUBE_REQUEST_TIMEOUT_MS} ms`), { name: 'TimeoutError' })));
        req.on('error', reject);
        if (payload) req.write(payload);
        req.end();
      }).catch((error: Error) => {
        throw new RemoteError(`${method} ${path}: ${error.message}`, true, { cause: error });
      });
      let body: any = res.text;
      try {
        body = JSON.parse(res.text);
      } catch {
        // logs are plain text
      }
      if (res.status === 403) {
        const { verb, resource } = rbacOf(method, path);
        throw new PermissionError(`forbidden: ${verb} ${resource} (${body?.message ?? 'RBAC'})`, `k8s:${verb} ${resource}`, KUBE_POLICY);
      }
      if (res.status === 429 || res.status >= 500) throw new RemoteError(`${method} ${path}: ${res.status} ${body?.message ?? ''}`, true);
      return { status: res.status, body, text: res.text };
    },
  };
  return client;
}
