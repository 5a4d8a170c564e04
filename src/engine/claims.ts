/**
 * Matches what providers find (core/claims.ts `Finding`) with what other providers claim, so a
 * finder (Kubernetes) names no cloud and a cloud's providers declare what they recognise. Pure.
 */
import type { Claimants, ClaimedMachine, Finding, MachineIdentityFinding, RoleFinding } from '../core/claims.js';
import type { Case, JsonObject, Provider } from '../core/types.js';

/** What planners are told about the providers' claims (the words for machines behind nodes). */
export function claimantsOf(providers: readonly Provider[]): Claimants {
  const machines = providers.flatMap((p) => (p.claims?.machines ? [{ id: p.id, claim: p.claims.machines }] : []));
  return {
    machine(providerID: string | null): ClaimedMachine | undefined {
      if (!providerID) return undefined;
      for (const { id: provider, claim } of machines) {
        const id = claim.fromProviderId(providerID);
        if (id) return { provider, id, noun: claim.words.noun, short: claim.words.short, does: claim.words.does };
      }
      return undefined;
    },
    machineClouds: machines.map((m) => m.claim.words.cloud),
    machineNouns: machines.map((m) => m.claim.words.noun),
    machineNotes: machines.flatMap((m) => m.claim.words.notes),
  };
}

/** The service-account annotations the engaged providers want read (e.g. iam with --revoke-pod-roles). */
export function wantedRoleAnnotations(kase: Case, providers: readonly Provider[]): string[] {
  return providers.flatMap((p) => {
    const params = kase.targets[p.id];
    return p.claims?.roles && params && p.claims.roles.wanted(params) ? [p.claims.roles.annotation] : [];
  });
}

/**
 * The targets each claiming provider gets from these findings, keyed by provider id. A finding no
 * provider claims adds nothing: the finder's plan says so (it is told through `claimantsOf`).
 */
export function claimedTargets(
  findings: readonly Finding[],
  providers: readonly Provider[],
): Record<string, JsonObject> {
  const claimants = claimantsOf(providers);
  const machines = new Map<string, string[]>();
  const roles = new Map<string, RoleFinding[]>();
  const identities = new Map<string, MachineIdentityFinding[]>();
  for (const f of findings) {
    if (f.kind === 'machine-identity') {
      const owner = providers.find((p) => p.claims?.machineIdentities?.recognises(f.identity));
      if (owner) identities.set(owner.id, [...(identities.get(owner.id) ?? []), f]);
    } else if (f.kind === 'machine') {
      const m = f.target ? claimants.machine(f.providerID) : undefined;
      if (!m) continue;
      const ids = machines.get(m.provider) ?? [];
      if (!ids.includes(m.id)) ids.push(m.id);
      machines.set(m.provider, ids);
    } else {
      const owner = providers.find((p) => p.claims?.roles?.annotation === f.annotation);
      if (!owner) continue;
      roles.set(owner.id, [...(roles.get(owner.id) ?? []), f]);
    }
  }
  const out: Record<string, JsonObject> = {};
  for (const p of providers) {
    const ids = machines.get(p.id);
    if (ids?.length && p.claims?.machines) out[p.id] = p.claims.machines.targets(ids);
    const found = roles.get(p.id);
    const params = found && p.claims?.roles?.targets(found);
    if (params) out[p.id] = { ...out[p.id], ...params };
    const held = identities.get(p.id);
    if (held?.length && p.claims?.machineIdentities)
      out[p.id] = { ...out[p.id], ...p.claims.machineIdentities.targets(held) };
  }
  return out;
}
