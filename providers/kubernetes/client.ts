/**
 * The only file of the Kubernetes provider that imports client-node. client-node loads credentials
 * the kubectl way (--kubeconfig, --context, KUBECONFIG, ~/.kube/config, in-cluster) and applies
 * them (tokens, client certificates, exec plugins such as `aws eks get-token`); holdfast then
 * sends plain REST requests through one function, where the do-not-delete guard runs before
 * anything leaves the process. Plain REST keeps the content type of every patch explicit
 * (client-node's generated clients default to JSON Patch) and lets logs stream as raw bytes.
 */
import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { BadInputError, PermissionError, RemoteError } from '../../src/core/errors.js';
import { assertKubeRequestAllowed } from '../../src/core/guard.js';
import { FIELD_MANAGER, userAgent } from '../../src/core/tool-info.js';
import { kubeAction } from './api-paths.js';
import { KUBE_CHECKPOINT_POLICY, KUBE_IRSA_POLICY, KUBE_POLICY } from './facts.js';

export const MERGE_PATCH = 'application/merge-patch+json';
/** Idle time after which a request is given up (a log stream that keeps sending is not cut). */
export const KUBE_REQUEST_TIMEOUT_MS = 30_000;
/** Where a pod's service-account token lies when holdfast runs in the cluster (a daemon). */
const IN_CLUSTER_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The API objects holdfast reads, as client-node types them (its only import of client-node's types). */
export type {
  CoreV1Event,
  KubernetesObject,
  V1LabelSelector,
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1NetworkPolicy,
  V1SelfSubjectAccessReview,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';

/**
 * One answer. `T` is what the caller expects a successful answer to hold (a V1Pod, a list…); other
 * statuses carry a Status object or, from a kubelet, plain text: read their message with `messageOf`.
 */
export interface KubeResponse<T = unknown> {
  status: number;
  /** The parsed JSON body, or the text when it is not JSON. Not validated against `T`. */
  body: T | undefined;
  text: string;
}

/** A list answer. */
export interface KubeList<T> {
  items?: T[];
}

/** The message of a Status answer, or undefined when the body has none. */
export function messageOf(res: Pick<KubeResponse, 'body'>): string | undefined {
  const body: unknown = res.body;
  if (typeof body !== 'object' || body === null || !('message' in body)) return undefined;
  return typeof body.message === 'string' ? body.message : undefined;
}

export interface KubeRequestOptions {
  query?: Record<string, string>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** A minimal Kubernetes REST client; every request passes the do-not-delete guard first. */
declare module '../../src/core/types.js' {
  interface Clients {
    /** The Kubernetes provider's API client, as `createKubeClient` builds it (injected: used as given). */
    kubernetes?: KubeClient;
  }
}

export interface KubeClient {
  server: string;
  /** A JSON request; 403 throws PermissionError, 401/429/5xx throw RemoteError, other statuses are returned. */
  send<T = unknown>(method: string, path: string, options?: KubeRequestOptions): Promise<KubeResponse<T>>;
  /** A GET whose 200 body is streamed as raw bytes (logs); any other answer is returned read. */
  stream(path: string, options?: KubeRequestOptions): Promise<{ status: 200; stream: Readable } | KubeResponse>;
  /** Tests record every request here (after the guard, before it is sent). */
  onRequest?: (method: string, path: string, query: Record<string, string>) => void;
}

/** Load a kubeconfig the kubectl way; every problem names the flag or variable it came from. */
export function loadKubeConfig(options: {
  kubeconfig?: string | null;
  context?: string | null;
  env: NodeJS.ProcessEnv;
}): KubeConfig {
  const kc = new KubeConfig();
  const fromEnv = options.env.KUBECONFIG?.split(':').filter(Boolean) ?? [];
  try {
    if (options.kubeconfig) {
      if (!existsSync(options.kubeconfig))
        throw new BadInputError({
          field: 'targets.kubernetes.kubeconfig',
          message: `${options.kubeconfig}: no such file`,
          continues: true,
        });
      kc.loadFromFile(options.kubeconfig);
    } else if (fromEnv.length) {
      const missing = fromEnv.filter((f) => !existsSync(f));
      if (missing.length === fromEnv.length)
        throw new BadInputError({ field: 'KUBECONFIG', message: `names no existing file (${missing.join(', ')})` });
      // Merged like kubectl: the first file that sets a value wins.
      const [first, ...rest] = fromEnv.filter((f) => existsSync(f));
      kc.loadFromFile(first!);
      for (const file of rest) {
        const more = new KubeConfig();
        more.loadFromFile(file);
        kc.mergeConfig(more, Boolean(kc.getCurrentContext()));
      }
    } else if (existsSync(join(options.env.HOME ?? homedir(), '.kube', 'config'))) {
      kc.loadFromFile(join(options.env.HOME ?? homedir(), '.kube', 'config'));
    } else if (existsSync(IN_CLUSTER_TOKEN_PATH) && options.env.KUBERNETES_SERVICE_HOST) {
      kc.loadFromCluster();
    } else {
      throw new BadInputError({
        field: 'targets.kubernetes',
        message:
          'no Kubernetes credentials: give targets.kubernetes.kubeconfig, set KUBECONFIG, create ~/.kube/config or run in a pod',
      });
    }
  } catch (error) {
    if (error instanceof BadInputError) throw error;
    throw new BadInputError(
      options.kubeconfig
        ? {
            field: 'targets.kubernetes.kubeconfig',
            message: `${options.kubeconfig} cannot be read: ${(error as Error).message}`,
            continues: true,
          }
        : { field: 'targets.kubernetes', message: `the kubeconfig cannot be read: ${(error as Error).message}` },
      { cause: error },
    );
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new BadInputError({
        field: 'targets.kubernetes.context',
        message: `${options.context}: not in the kubeconfig (contexts: ${known.join(', ') || 'none'})`,
        continues: true,
      });
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster())
    throw new BadInputError({
      field: 'targets.kubernetes',
      message: 'the kubeconfig has no current context with a cluster: give targets.kubernetes.context',
    });
  return kc;
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (d: Buffer) => chunks.push(d));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function parsed<T>(status: number, text: string): KubeResponse<T> {
  try {
    // The API server's JSON, typed by what the caller asked for (the one unchecked step).
    const body: T = JSON.parse(text);
    return { status, body, text };
  } catch {
    // not JSON: an error page or plain text
    return { status, body: undefined, text };
  }
}

/** Build a client from kubeconfig (see `loadKubeConfig`). */
export function createKubeClient(options: {
  kubeconfig?: string | null;
  context?: string | null;
  env: NodeJS.ProcessEnv;
}): KubeClient {
  const kc = loadKubeConfig(options);
  const server = kc.getCurrentCluster()!.server.replace(/\/$/, '');

  const open = async (method: string, path: string, opts: KubeRequestOptions): Promise<IncomingMessage> => {
    assertKubeRequestAllowed(method, path);
    // Every write names holdfast as its field manager (managedFields, audit); the node proxy passes
    // queries on to the kubelet, which has no use for one.
    const writes = method !== 'GET' && !path.includes('/proxy/');
    const query = writes ? { fieldManager: FIELD_MANAGER, ...opts.query } : (opts.query ?? {});
    client.onRequest?.(method, path, query);
    const qs = new URLSearchParams(query).toString();
    const url = new URL(`${server}${path}${qs ? `?${qs}` : ''}`);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const requestOptions: RequestOptions = {
      method,
      headers: {
        accept: 'application/json, */*',
        'user-agent': userAgent(),
        ...(payload
          ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {}),
      },
      timeout: KUBE_REQUEST_TIMEOUT_MS,
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    // Credentials (bearer token, client certificate, exec plugin) and the cluster CA, per request: tokens rotate.
    await kc.applyToHTTPSOptions(requestOptions);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, requestOptions, resolve);
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error(`no answer for ${KUBE_REQUEST_TIMEOUT_MS} ms`), { name: 'TimeoutError' })),
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    }).catch((error: Error) => {
      throw new RemoteError(`${method} ${path}: ${error.message}`, error.name !== 'AbortError', { cause: error });
    });
  };

  const refuse = (method: string, path: string, res: KubeResponse): never => {
    if (res.status === 403) {
      const action = kubeAction(method, path);
      const policy =
        action === 'k8s:create nodes/proxy'
          ? KUBE_CHECKPOINT_POLICY
          : action === 'k8s:list serviceaccounts'
            ? KUBE_IRSA_POLICY
            : KUBE_POLICY;
      throw new PermissionError(
        `permission missing: ${action} (granted by ${policy}): ${messageOf(res) ?? 'forbidden'}`,
        action,
        policy,
      );
    }
    if (res.status === 401)
      throw new RemoteError(`${method} ${path}: 401 the cluster rejected the credentials (expired token?)`, false);
    // Kubelet answers relayed by the API server are plain text, not Status objects.
    const detail = messageOf(res) ?? res.text.trim().slice(0, 300);
    throw new RemoteError(`${method} ${path}: ${res.status} ${detail}`.trim(), true);
  };
  const refused = (status: number) => status === 401 || status === 403 || status === 429 || status >= 500;

  const client: KubeClient = {
    server,
    async send<T>(method: string, path: string, opts: KubeRequestOptions = {}) {
      const res = await open(method, path, opts);
      const answer = parsed<T>(res.statusCode ?? 0, await readAll(res));
      if (refused(answer.status)) refuse(method, path, answer);
      return answer;
    },
    async stream(path, opts = {}) {
      const res = await open('GET', path, opts);
      if (res.statusCode === 200) return { status: 200, stream: res };
      const answer = parsed(res.statusCode ?? 0, await readAll(res));
      if (answer.status === 401 || answer.status === 403) refuse('GET', path, answer);
      return answer;
    },
  };
  return client;
}
