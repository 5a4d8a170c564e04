/** The real API server for Kubernetes tests (src/emulators/kube.ts); build with scripts/build-kube.sh (or evidence drill --with-kubernetes). */
import { startKube as startKubeServer, type KubeServer as KubeServerOf } from '../../src/emulators/kube.js';

export { kubeBinariesPresent } from '../../src/emulators/kube.js';
export {
  checkpointArchivePath,
  reportKubeletEndpoint,
  startKubeletStandIn,
  type KubeletStandIn,
} from '../../src/emulators/kubelet-stand-in.js';

/** The server as tests use it: answers are raw API JSON that a test reads field by field. */
export type KubeServer = Omit<KubeServerOf, 'call'> & {
  call(...args: Parameters<KubeServerOf['call']>): Promise<{ status: number; body: any }>;
};

export const startKube: (...args: Parameters<typeof startKubeServer>) => Promise<KubeServer> = startKubeServer;
