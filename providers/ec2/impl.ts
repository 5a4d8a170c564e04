/** The SDK-bound half of the EC2 provider, loaded on first use. */
import { runByAction, type ProviderImplementation } from '../../src/core/provider-kit.js';
import { discoverEc2 } from './discover.js';
import type { Ec2Facts, Ec2Params } from './facts.js';
import { preflightEc2 } from './preflight.js';
import { releaseEc2 } from './release.js';
import { runDescribe, runSnapshot } from './run-collect.js';
import { runDeregister, runIsolate, runIsolationGroup } from './run-contain.js';
import { runProtect, runStandby, runTag } from './run-preserve.js';
import { runHashSnapshots } from './run-hash.js';
import { runSettle } from './run-settle.js';
import { runMemory, runMemoryImage } from './run-memory.js';
import type { Ec2Actions, Ec2Step } from './steps.js';

/** Discovery, preflight, step runners and release of the EC2 provider. */
export const implementation: ProviderImplementation<Ec2Params, Ec2Facts, Ec2Step> = {
  discover: discoverEc2,
  preflight: preflightEc2,
  run: runByAction<Ec2Actions>('ec2', {
    tag: runTag,
    protect: runProtect,
    standby: runStandby,
    describe: runDescribe,
    snapshot: runSnapshot,
    deregister: runDeregister,
    'isolation-group': runIsolationGroup,
    isolate: runIsolate,
    settle: runSettle,
    'hash-snapshots': runHashSnapshots,
    memory: runMemory,
    'memory-image': runMemoryImage,
  }),
  release: releaseEc2,
};
