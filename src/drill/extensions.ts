/** Drill extras that need local servers beyond the AWS emulator: a PostgreSQL database to dump and a compromised pod. */
import { startPostgres } from '../emulators/databases.js';
import { buildKube, kubeBinDir, kubeBinariesPresent, startKube } from '../emulators/kube.js';
import { reportKubeletEndpoint, startKubeletStandIn } from '../emulators/kubelet-stand-in.js';
import type { DrillExtension } from './run-drill.js';

/** The env variable the drill hands the database password through (never argv). */
const DRILL_DB_PASSWORD_ENV = 'HOLDFAST_DRILL_DB_PASSWORD';

const postgresDump: DrillExtension = {
  provider: 'dump',
  async prepare() {
    let pg;
    try {
      pg = await startPostgres();
    } catch (error) {
      return {
        reason: `PostgreSQL is not available here (${(error as Error).message.split('\n')[0]}); install it with: apt-get install postgresql`,
      };
    }
    await pg.sql('CREATE DATABASE orders');
    await pg.sql(
      "CREATE TABLE orders (id int primary key, customer text, card_last4 text, total numeric(10,2)); INSERT INTO orders SELECT g, 'customer-' || g, lpad((g % 10000)::text, 4, '0'), g * 3.25 FROM generate_series(1, 2000) g;",
      'orders',
    );
    return {
      targets: { urls: [`postgres://${pg.user}@${pg.host}:${pg.port}/orders`], passwordEnv: DRILL_DB_PASSWORD_ENV },
      env: { [DRILL_DB_PASSWORD_ENV]: pg.password },
      stop: () => pg.stop(),
    };
  },
};

const compromisedPod: DrillExtension = {
  provider: 'kubernetes',
  async prepare({ seeded, build, log }) {
    if (!kubeBinariesPresent() && !build)
      return {
        reason: `no local Kubernetes API server in ${kubeBinDir()}; \`evidence drill --with-kubernetes\` builds one (needs Go; 15+ minutes the first time)`,
      };
    if (!kubeBinariesPresent()) {
      log(`building the local Kubernetes servers into ${kubeBinDir()} (first time only)`);
      try {
        await buildKube(log);
      } catch (error) {
        return { reason: (error as Error).message.split('\n').slice(0, 3).join('; ') };
      }
    }
    const kube = await startKube();
    const ok = async (method: string, path: string, body?: unknown, type?: string) => {
      const res = await kube.call(method, path, body, 'admin', type);
      if (res.status >= 300) throw new Error(`drill seed ${method} ${path}: ${res.status}`);
      return res.body;
    };
    await ok('POST', '/api/v1/nodes', {
      metadata: { name: 'worker-1' },
      spec: { providerID: `aws:///${seeded.region}a/${seeded.instanceId}` },
    });
    await ok('POST', '/api/v1/namespaces', { metadata: { name: 'shop' } });
    const labels = { app: 'checkout', 'pod-template-hash': '7c9d' };
    /** The fields of the created ReplicaSet the pod's owner reference needs. */
    type Created = { metadata: { name: string; uid: string } };
    const rs = (await ok('POST', '/apis/apps/v1/namespaces/shop/replicasets', {
      metadata: { name: 'checkout-7c9d', labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'shop/checkout:1.4' }] } },
      },
    })) as Created;
    await ok('POST', '/api/v1/namespaces/shop/pods', {
      metadata: {
        name: 'checkout-7c9d-q2w8r',
        labels,
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid, controller: true },
        ],
      },
      spec: { nodeName: 'worker-1', containers: [{ name: 'app', image: 'shop/checkout:1.4' }] },
    });
    await ok(
      'PATCH',
      '/api/v1/namespaces/shop/pods/checkout-7c9d-q2w8r/status',
      {
        status: {
          phase: 'Running',
          containerStatuses: [
            {
              name: 'app',
              image: 'shop/checkout:1.4',
              imageID: '',
              ready: true,
              restartCount: 0,
              state: { running: {} },
            },
          ],
        },
      },
      'application/merge-patch+json',
    );
    await ok('POST', '/api/v1/namespaces/shop/services', {
      metadata: { name: 'checkout' },
      spec: { selector: { app: 'checkout' }, ports: [{ port: 443 }] },
    });
    // The pod's log, served where the API server looks for worker-1's kubelet (no kubelet runs here).
    const kubelet = await startKubeletStandIn(kube, {
      'shop/checkout-7c9d-q2w8r/app': Buffer.from(
        [
          '2026-12-03T02:14:07.112Z GET /healthz 200',
          '2026-12-03T02:16:41.903Z POST /api/cart 200',
          '2026-12-03T02:17:02.450Z POST /api/checkout/../../admin/upload 200 (198.51.100.66)',
          '2026-12-03T02:17:05.011Z spawned /tmp/.x/kworker --pool stratum+tcp://203.0.113.99:3333',
          '',
        ].join('\n'),
      ),
    });
    await reportKubeletEndpoint(kube, 'worker-1', kubelet);
    return {
      targets: { pods: ['shop/checkout-7c9d-q2w8r'], kubeconfig: kube.kubeconfigPath('admin') },
      stop: async () => {
        await kubelet.stop();
        await kube.stop();
      },
    };
  },
};

/** Registered explicitly, like providers. */
export const drillExtensions: readonly DrillExtension[] = [postgresDump, compromisedPod];
