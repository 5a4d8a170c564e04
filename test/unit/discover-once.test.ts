/**
 * Planning discovers each engaged provider once, even when findings widen another provider's
 * targets: a claimant waits for the finders still to be read instead of the whole discovery
 * running again with the widened case.
 */
import { describe, expect, it } from 'vitest';
import type { Claims, Finding } from '../../src/core/claims.js';
import type { Case, JsonObject, Provider } from '../../src/core/types.js';
import { planCase } from '../../src/engine/capture.js';

type Params = { ids: string[] };

/** A provider that counts its discoveries, finds what `finds` says and claims what `claims` says. */
function counted(
  id: string,
  calls: Record<string, number>,
  extra: { finds?: (ids: string[]) => Finding[]; claims?: Claims } = {},
): Provider {
  return {
    id,
    summary: id,
    flags: [],
    policies: [],
    example: '',
    parseParams: (raw) => ({ params: { ids: [...((raw.ids as string[]) ?? [])] }, problems: [] }),
    discover: async (params) => {
      calls[id] = (calls[id] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 2));
      return (params as Params).ids;
    },
    plan: (facts) => ({
      steps: (facts as string[]).map((t) => ({
        id: `read/${t}`,
        action: 'read',
        phase: 'collect' as const,
        target: `${id}:${t}`,
        title: `read ${t}`,
        inputs: {},
      })),
    }),
    run: async () => ({ outputs: {} }),
    ...(extra.finds ? { findings: (facts: unknown) => extra.finds!(facts as string[]) } : {}),
    ...(extra.claims ? { claims: extra.claims } : {}),
  };
}

const kase = (targets: Record<string, JsonObject>): Case => ({
  incident: 'IR-ONCE-1',
  severity: 'high',
  approveContainment: false,
  contain: true,
  forensicCidrs: [],
  store: { kind: 'fs', dir: '/nonexistent' },
  targets,
});

describe('planning discovers each provider once', () => {
  it('a chain of findings (cluster → machine → identity) reads every provider once and plans them all', async () => {
    const calls: Record<string, number> = {};
    // "cluster" finds machines; "machines" claims them and finds identities; "identities" claims those.
    const cluster = counted('cluster', calls, {
      finds: (ids) => ids.map((n) => ({ kind: 'machine', providerID: `fake:///${n}-vm`, target: true })),
    });
    const machines = counted('machines', calls, {
      finds: (ids) => ids.map((m) => ({ kind: 'machine-identity', machine: m, identity: `profile/${m}` })),
      claims: {
        machines: {
          fromProviderId: (p) => (p.startsWith('fake:///') ? p.slice('fake:///'.length) : undefined),
          targets: (ids) => ({ ids }),
          words: { cloud: 'fake', noun: 'VM', short: 'VM', does: 'reads it', notes: [] },
        },
      },
    });
    const identities = counted('identities', calls, {
      claims: {
        machineIdentities: {
          recognises: (i) => i.startsWith('profile/'),
          targets: (found) => ({ ids: found.map((f) => f.identity.replace('/', '-')) }),
        },
      },
    });
    // Listed claimants first: the order of the registry must not decide the order of discovery.
    const providers = [identities, machines, cluster];
    const plan = await planCase(
      kase({ cluster: { ids: ['n1'] }, machines: { ids: ['m0'] }, identities: { ids: [] } }),
      {
        providers,
        env: {},
      },
    );
    expect(calls).toEqual({ cluster: 1, machines: 1, identities: 1 });
    expect(plan.steps.map((s) => s.id).sort()).toEqual([
      'cluster:read/n1',
      'identities:read/profile-m0',
      'identities:read/profile-n1-vm',
      'machines:read/m0',
      'machines:read/n1-vm',
    ]);
  });

  it('a provider whose findings nobody claims is read once, and so is everything else', async () => {
    const calls: Record<string, number> = {};
    const finder = counted('finder', calls, {
      finds: (ids) => ids.map((m) => ({ kind: 'machine-identity', machine: m, identity: `other/${m}` })),
    });
    const plain = counted('plain', calls);
    await planCase(kase({ finder: { ids: ['a'] }, plain: { ids: ['b'] } }), { providers: [finder, plain], env: {} });
    expect(calls).toEqual({ finder: 1, plain: 1 });
  });
});
