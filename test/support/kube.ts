/** The real API server for Kubernetes tests (src/emulators/kube.ts); build with test/support/kube/build.sh. */
export { startKube, kubeBinariesPresent, type KubeServer } from '../../src/emulators/kube.js';
export {
  checkpointArchivePath,
  reportKubeletEndpoint,
  startKubeletStandIn,
  type KubeletStandIn,
} from '../../src/emulators/kubelet-stand-in.js';
