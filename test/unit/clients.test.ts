import { describe, expect, it } from 'vitest';
import { clientsFor } from '../../src/core/provider-kit.js';
import type { Clients } from '../../src/core/types.js';
import type { ExecuteOptions } from '../../src/engine/execute.js';
import { runScope } from '../../src/engine/run-scope.js';
import type { KubeClient } from '../../providers/kubernetes/client.js';

const kube = (server: string): KubeClient => ({ server }) as KubeClient;

describe('injected clients', () => {
  it('an injected entry is used as given; a missing one is built once per run, even with one clients object', () => {
    const injected = kube('https://injected');
    const run = runScope();
    expect(clientsFor({ clients: { kubernetes: injected }, run }, 'kubernetes', () => kube('https://built'))).toBe(
      injected,
    );
    let builds = 0;
    const clients: Clients = {};
    const build = () => kube(`https://built-${++builds}`);
    const first = clientsFor({ clients, run }, 'kubernetes', build);
    expect(clientsFor({ clients, run }, 'kubernetes', build)).toBe(first);
    expect(builds).toBe(1);
    // Another run starts afresh, though the caller hands it the same clients object.
    expect(clientsFor({ clients, run: runScope() }, 'kubernetes', build)).not.toBe(first);
    expect(builds).toBe(2);
  });

  it('the map is typed per provider for library callers (checked by npm run typecheck)', () => {
    const options: ExecuteOptions = { clients: { kubernetes: kube('https://k') } };
    // @ts-expect-error -- an entry must be its provider's client type
    const wrongType: Clients = { ec2: 42 };
    // @ts-expect-error -- an id no provider declares is refused, not silently ignored
    const unknownId: Clients = { ec3: {} };
    expect([options.clients?.kubernetes?.server, wrongType, unknownId]).toEqual([
      'https://k',
      { ec2: 42 },
      { ec3: {} },
    ]);
  });
});
