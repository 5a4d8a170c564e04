/**
 * A real kube-apiserver with etcd on loopback for tests and drills (envtest-style: no kubelet), and
 * on request the real kube-controller-manager beside them. Binaries are built from the Go module
 * proxy by scripts/build-kube.sh (shipped in the package; `buildKube` runs it) into the cache; this
 * starts them with a token file (an admin in system:masters, the tool's own user, the controller
 * manager's user) and RBAC authorization, so permission tests are real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, freePort } from './moto.js';
import { packageRoot } from '../core/tool-info.js';

export const KUBE_VERSION = process.env.HOLDFAST_K8S_VERSION ?? 'v1.36.3';
const READY_TIMEOUT_MS = 120_000;
/**
 * Service accounts the controller manager creates for the controllers holdfast's behaviour depends
 * on (--use-service-account-credentials): when they exist, those controllers are running.
 */
const CONTROLLER_ACCOUNTS = [
  'replicaset-controller',
  'deployment-controller',
  'job-controller',
  'cronjob-controller',
  'daemon-set-controller',
  'statefulset-controller',
  'generic-garbage-collector',
  'disruption-controller',
];

export interface KubeStartOptions {
  /** Also run kube-controller-manager with every controller (ReplicaSets, GC, Jobs…). */
  controllers?: boolean;
}

export interface KubeServer {
  server: string;
  caCert: string;
  adminToken: string;
  toolToken: string;
  toolUser: 'holdfast-tool';
  /** The API server's own self-signed serving key pair, reused by stand-ins that must speak HTTPS (kubelet-stand-in.ts). */
  servingTls: { cert: string; key: string };
  /** This machine's own (non-loopback) IPv4 address, if it has one: where a stand-in kubelet can listen. */
  hostAddress: string | undefined;
  /** Write a kubeconfig for `user` and return its path. */
  kubeconfigPath(user: 'admin' | 'tool'): string;
  /** Write a kubeconfig that authenticates with `token` (e.g. a service account's) and return its path. */
  kubeconfigForToken(name: string, token: string): string;
  /** An authenticated HTTPS call (for tests and seeding). */
  call(
    method: string,
    path: string,
    body?: unknown,
    user?: 'admin' | 'tool',
    contentType?: string,
  ): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** Where the built binaries live. */
export function kubeBinDir(): string {
  return join(cacheDir(), 'kube', KUBE_VERSION);
}

export function kubeBinariesPresent(options: KubeStartOptions = {}): boolean {
  return (
    existsSync(join(kubeBinDir(), 'etcd')) &&
    existsSync(join(kubeBinDir(), 'kube-apiserver')) &&
    (!options.controllers || existsSync(join(kubeBinDir(), 'kube-controller-manager')))
  );
}

/** The build script as installed with the package. */
export function kubeBuildScript(): string {
  return join(packageRoot(), 'scripts', 'build-kube.sh');
}

/**
 * Build etcd, kube-apiserver and kube-controller-manager into the cache from the Go module proxy
 * (skips what is built). Each line the build prints goes to `onLine`; the Go toolchain is needed.
 */
export async function buildKube(onLine: (line: string) => void = () => {}): Promise<void> {
  const script = kubeBuildScript();
  if (!existsSync(script)) throw new Error(`the Kubernetes build script is missing from this installation: ${script}`);
  const child = spawn('bash', [script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOLDFAST_K8S_VERSION: KUBE_VERSION },
  });
  const lines: string[] = [];
  const take = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 20) lines.shift();
      onLine(line);
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`building the Kubernetes servers failed (exit ${code}):\n${lines.join('\n')}`);
}

function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  return undefined;
}

function advertiseAddress(): string {
  // The API server refuses a loopback advertise address; it only advertises it, no traffic goes there.
  return hostAddress() ?? '10.255.255.1';
}

function start(bin: string, args: string[], log: string): ChildProcess {
  const out = openSync(log, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', out, out] });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.removeListener('exit', kill));
  return child;
}

function tail(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-15).join('\n') : '';
}

/** Start etcd and kube-apiserver; throws with the log tail when they cannot start. */
export async function startKube(options: KubeStartOptions = {}): Promise<KubeServer> {
  if (!kubeBinariesPresent(options))
    throw new Error(
      `kube-apiserver/etcd${options.controllers ? '/kube-controller-manager' : ''} not built in ${kubeBinDir()}: run evidence drill --with-kubernetes (needs Go)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'hf-kube-'));
  const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
  const etcd = start(
    join(kubeBinDir(), 'etcd'),
    [
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${clientPort}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-cluster',
      `default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync',
      '--log-level',
      'warn',
    ],
    join(dir, 'etcd.log'),
  );

  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const adminToken = randomBytes(16).toString('hex');
  const toolToken = randomBytes(16).toString('hex');
  // The bootstrap RBAC policy binds this user name to the controller manager's ClusterRole.
  const controllerToken = randomBytes(16).toString('hex');
  writeFileSync(
    join(dir, 'tokens.csv'),
    `${adminToken},admin,admin-uid,"system:masters"\n${toolToken},holdfast-tool,tool-uid\n${controllerToken},system:kube-controller-manager,kcm-uid\n`,
    { mode: 0o600 },
  );
  const apiserver = start(
    join(kubeBinDir(), 'kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${clientPort}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${securePort}`,
      `--advertise-address=${advertiseAddress()}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
    ],
    join(dir, 'apiserver.log'),
  );

  const server = `https://127.0.0.1:${securePort}`;
  const tokens = { admin: adminToken, tool: toolToken };
  let caCert = '';
  const call: KubeServer['call'] = (method, path, body, user = 'admin', contentType = 'application/json') =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = request(
        `${server}${path}`,
        {
          method,
          ...(caCert ? { ca: caCert } : { rejectUnauthorized: false }),
          headers: {
            authorization: `Bearer ${tokens[user]}`,
            accept: 'application/json',
            // A DELETE body without a length can be misread on a kept-alive connection: always send one.
            ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // plain text (readyz, logs)
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });

  let controllerManager: ChildProcess | undefined;
  const stop = async () => {
    for (const child of [controllerManager, apiserver, etcd]) {
      if (!child) continue;
      if (child.exitCode !== null) continue;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (apiserver.exitCode !== null || etcd.exitCode !== null) {
      const logs = `${tail(join(dir, 'etcd.log'))}\n${tail(join(dir, 'apiserver.log'))}`;
      await stop();
      throw new Error(`kube-apiserver or etcd exited during start-up:\n${logs}`);
    }
    const ready = await call('GET', '/readyz').catch(() => ({ status: 0, body: '' }));
    if (ready.status === 200) break;
    if (Date.now() > deadline) {
      const logs = tail(join(dir, 'apiserver.log'));
      await stop();
      throw new Error(`kube-apiserver not ready in ${READY_TIMEOUT_MS} ms:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  caCert = readFileSync(join(dir, 'certs', 'apiserver.crt'), 'utf8');

  const writeKubeconfig = (name: string, token: string): string => {
    const path = join(dir, `kubeconfig-${name.replace(/[^a-z0-9-]/gi, '-')}.yaml`);
    const ca = Buffer.from(caCert).toString('base64');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: local, cluster: {server: "${server}", certificate-authority-data: ${ca}}}]`,
        `users: [{name: "${name}", user: {token: ${token}}}]`,
        `contexts: [{name: "${name}", context: {cluster: local, user: "${name}"}}]`,
        `current-context: "${name}"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return path;
  };

  if (options.controllers) {
    controllerManager = start(
      join(kubeBinDir(), 'kube-controller-manager'),
      [
        `--kubeconfig=${writeKubeconfig('system:kube-controller-manager', controllerToken)}`,
        // Each controller acts as its own service account, so RBAC and audit see which one did what.
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${join(dir, 'sa.key')}`,
        `--root-ca-file=${join(dir, 'certs', 'apiserver.crt')}`,
        '--controllers=*',
        '--leader-elect=false',
        // No metrics/health endpoint: nothing scrapes it, and a fixed port would collide across test files.
        '--secure-port=0',
      ],
      join(dir, 'controller-manager.log'),
    );
    await waitForControllers(call, controllerManager, join(dir, 'controller-manager.log'), stop);
  }

  return {
    server,
    caCert,
    adminToken,
    toolToken,
    toolUser: 'holdfast-tool',
    hostAddress: hostAddress(),
    servingTls: { cert: caCert, key: readFileSync(join(dir, 'certs', 'apiserver.key'), 'utf8') },
    kubeconfigPath(user) {
      return writeKubeconfig(user, tokens[user]);
    },
    kubeconfigForToken(name, token) {
      return writeKubeconfig(name, token);
    },
    call,
    stop,
  };
}

/** Ready when the controllers' own service accounts exist in kube-system (each is made as its controller starts). */
async function waitForControllers(
  call: KubeServer['call'],
  child: ChildProcess,
  log: string,
  stop: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      const logs = tail(log);
      await stop();
      throw new Error(`kube-controller-manager exited during start-up:\n${logs}`);
    }
    const res = await call('GET', '/api/v1/namespaces/kube-system/serviceaccounts').catch(() => ({
      status: 0,
      body: {},
    }));
    const items = (res.body as { items?: { metadata: { name: string } }[] } | undefined)?.items ?? [];
    const names = new Set(items.map((a) => a.metadata.name));
    if (CONTROLLER_ACCOUNTS.every((a) => names.has(a))) return;
    if (Date.now() > deadline) {
      const logs = tail(log);
      await stop();
      throw new Error(
        `kube-controller-manager not ready in ${READY_TIMEOUT_MS} ms (missing ${CONTROLLER_ACCOUNTS.filter((a) => !names.has(a)).join(', ')}):\n${logs}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
