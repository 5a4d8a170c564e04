/** REST paths of what the Kubernetes provider reads and changes, and the RBAC permission each request needs. */

export const podsPath = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
export const podPath = (ns: string, name: string) => `${podsPath(ns)}/${name}`;
export const nodePath = (name: string) => `/api/v1/nodes/${name}`;
export const servicesPath = (ns: string) => `/api/v1/namespaces/${ns}/services`;
export const eventsPath = (ns: string) => `/api/v1/namespaces/${ns}/events`;
export const networkPoliciesPath = (ns: string) => `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`;
export const pdbsPath = (ns: string) => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`;
/** Every service account in the cluster (who else holds a cloud role a pod runs as). */
export const ALL_SERVICE_ACCOUNTS_PATH = '/api/v1/serviceaccounts';
/** The kubelet checkpoint API, reached through the API server's node proxy. */
export const checkpointPath = (node: string, ns: string, pod: string, container: string) =>
  `${nodePath(node)}/proxy/checkpoint/${ns}/${pod}/${container}`;
export const ACCESS_REVIEW_PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

/** Where the built-in owner kinds live (plans made before owners were found through API discovery). */
export const OWNER_PATHS: Record<string, (ns: string, name: string) => string> = {
  ReplicaSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/replicasets/${n}`,
  Deployment: (ns, n) => `/apis/apps/v1/namespaces/${ns}/deployments/${n}`,
  StatefulSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/statefulsets/${n}`,
  DaemonSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/daemonsets/${n}`,
  Job: (ns, n) => `/apis/batch/v1/namespaces/${ns}/jobs/${n}`,
  CronJob: (ns, n) => `/apis/batch/v1/namespaces/${ns}/cronjobs/${n}`,
};

/** The recorded path of an owner (API discovery), else the built-in path of its kind; null when it cannot be read. */
export function ownerPath(ns: string, o: { kind: string; name: string; path?: string | null }): string | null {
  if (o.path !== undefined) return o.path;
  return OWNER_PATHS[o.kind]?.(ns, o.name) ?? null;
}

/** The RBAC verb, API group and resource (with subresource) a request needs, as in a Role rule. */
export function rbacOf(method: string, path: string): { verb: string; group: string; resource: string } {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  // /api/v1/…  or  /apis/<group>/<version>/…
  const group = parts[0] === 'api' ? '' : (parts[1] ?? '');
  let rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const resource = rest.length >= 3 ? `${rest[0]}/${rest[2]}` : (rest[0] ?? '');
  const named = rest.length >= 2;
  const verbs: Record<string, string> = {
    GET: named ? 'get' : 'list',
    POST: 'create',
    PATCH: 'patch',
    PUT: 'update',
    DELETE: named ? 'delete' : 'deletecollection',
  };
  return { verb: verbs[method.toUpperCase()] ?? method.toLowerCase(), group, resource };
}

/** The action name a permission check or error reports, e.g. `k8s:patch pods`. */
export function kubeAction(method: string, path: string): string {
  const { verb, resource } = rbacOf(method, path);
  return `k8s:${verb} ${resource}`;
}
