/**
 * Find or create, per VPC and incident, the two security groups isolation needs:
 * - "convert": all traffic in and out from 0.0.0.0/0 and ::/0. Swapping an ENI to it first turns
 *   tracked connections into untracked ones, so the swap to isolation cuts them at once.
 * - "isolation": ingress only from the forensic CIDRs, no egress at all (a new group's default
 *   allow-all egress is described and revoked).
 * SDK-free: each provider adapts its own EC2 client to `SecurityGroupApi`.
 */
import { RemoteError } from '../core/errors.js';
import { classifyAwsError, isConflict } from './errors.js';
import type { JsonObject, PortRange, Step, StepContext, StepOutcome } from '../core/types.js';

/** One rule with one peer: a CIDR, another security group or a managed prefix list. */
export interface SgRule {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  /** Peer security group; holdfast never writes these, but must see them to refuse or revoke them. */
  groupId?: string;
  prefixListId?: string;
}

/** A security group as the isolation logic sees it. */
export interface SgDescription {
  groupId: string;
  name: string;
  vpcId: string;
  ingress: SgRule[];
  egress: SgRule[];
  /** The group's tags, when the adapter reads them; a group with our name but not our tags is refused. */
  tags?: Record<string, string>;
}

/** The EC2 calls isolation needs, as plain functions. */
export interface SecurityGroupApi {
  findGroup(vpcId: string, name: string): Promise<SgDescription | undefined>;
  createGroup(vpcId: string, name: string, description: string, tags: Record<string, string>): Promise<string>;
  describeGroup(groupId: string): Promise<SgDescription>;
  authorizeIngress(groupId: string, rules: SgRule[]): Promise<void>;
  authorizeEgress(groupId: string, rules: SgRule[]): Promise<void>;
  revokeEgress(groupId: string, rules: SgRule[]): Promise<void>;
}

/** The two groups isolation needs per VPC. */
export type GroupRole = 'convert' | 'isolation';

/** Security group names allow 255 characters. */
export const MAX_SECURITY_GROUP_NAME_LENGTH = 255;

/** The deterministic name of an incident's group of `role` in `vpcId`, found again on re-run. */
export function isolationGroupName(incident: string, role: GroupRole, vpcId: string): string {
  return `holdfast-${role}-${incident}-${vpcId}`.slice(0, MAX_SECURITY_GROUP_NAME_LENGTH);
}

/** Ingress rules that admit the forensic hosts, on all ports or on the given TCP ranges. */
export function forensicIngressRules(forensicCidrs: readonly string[], ports?: readonly PortRange[]): SgRule[] {
  const cidr = (c: string) => (c.includes(':') ? { cidrIpv6: c } : { cidrIpv4: c });
  return forensicCidrs.flatMap((c) =>
    ports?.length
      ? ports.map((p) => ({ protocol: 'tcp', fromPort: p.from, toPort: p.to, ...cidr(c) }))
      : [{ protocol: '-1', ...cidr(c) }],
  );
}

const ALL_IPV4: SgRule = { protocol: '-1', cidrIpv4: '0.0.0.0/0' };
const ALL_IPV6: SgRule = { protocol: '-1', cidrIpv6: '::/0' };

function ruleKey(r: SgRule): string {
  return [
    r.protocol,
    r.fromPort ?? '',
    r.toPort ?? '',
    r.cidrIpv4 ?? '',
    r.cidrIpv6 ?? '',
    r.groupId ?? '',
    r.prefixListId ?? '',
  ].join('|');
}

function describeRule(r: SgRule): string {
  const peer = r.cidrIpv4 ?? r.cidrIpv6 ?? r.groupId ?? r.prefixListId ?? '?';
  return r.protocol === '-1' ? `all from ${peer}` : `${r.protocol} ${r.fromPort ?? ''}-${r.toPort ?? ''} from ${peer}`;
}

function missing(want: SgRule[], have: SgRule[]): SgRule[] {
  const present = new Set(have.map(ruleKey));
  return want.filter((r) => !present.has(ruleKey(r)));
}

/** Another writer (a parallel step, another provider, a second run) may change the same group: a rule
 * that is already there, or already gone, is the outcome we wanted. */
async function tolerateRace(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    const { kind } = classifyAwsError(error);
    if (kind !== 'conflict' && kind !== 'not-found') throw error;
  }
}

/** The isolation-group step of any provider: this incident's groups in the step's VPC. */
export async function runIsolationGroupStep(
  api: SecurityGroupApi,
  ctx: StepContext<Step<'isolation-group', IsolationGroupAction['inputs']>>,
): Promise<StepOutcome<EnsuredGroups>> {
  const { vpcId } = ctx.step.inputs;
  const groups = await ensureIsolationGroups(api, {
    incident: ctx.incident,
    vpcId,
    forensicCidrs: ctx.kase.forensicCidrs,
    ...(ctx.kase.forensicPorts ? { forensicPorts: ctx.kase.forensicPorts } : {}),
    recordIntent: (what) => ctx.recordIntent(what),
  });
  return {
    outputs: groups,
    ...(groups.created.length ? {} : { note: `reused the isolation groups of ${vpcId}` }),
  };
}

/** What ensureIsolationGroups needs to find or build one VPC's groups. */
export interface EnsureGroupsInput {
  incident: string;
  vpcId: string;
  forensicCidrs: readonly string[];
  forensicPorts?: readonly PortRange[];
  /** Journals the intent before a group is created, so a crash between create and record is adopted. */
  recordIntent(what: JsonObject): unknown;
}

/** The VPC's group ids, for the ENI/RDS swap; the isolation-group step's outputs. */
export type EnsuredGroups = {
  convertGroupId: string;
  isolationGroupId: string;
  /** Group ids created by this call (empty on a re-run). */
  created: string[];
};

/** The isolation-group action every provider that isolates through security groups plans, one per VPC. */
export type IsolationGroupAction = { inputs: { vpcId: string }; outputs: EnsuredGroups };

/** Find or create both groups for a VPC and bring their rules to exactly what isolation needs. */
export async function ensureIsolationGroups(api: SecurityGroupApi, input: EnsureGroupsInput): Promise<EnsuredGroups> {
  const created: string[] = [];
  const ensure = async (role: GroupRole, description: string): Promise<SgDescription> => {
    const name = isolationGroupName(input.incident, role, input.vpcId);
    let group = await api.findGroup(input.vpcId, name);
    if (!group) {
      // Awaited: a step context's intent resolves once it is on disk.
      await input.recordIntent({ create: 'security-group', role, vpcId: input.vpcId, name });
      try {
        const id = await api.createGroup(input.vpcId, name, description, {
          'holdfast:incident': input.incident,
          'holdfast:role': role,
          'holdfast:vpc': input.vpcId,
          'holdfast:do-not-delete': 'true',
        });
        created.push(id);
      } catch (error) {
        // Another step (or provider) created it between our find and create: adopt theirs.
        if (!isConflict(error)) throw error;
      }
      group = await api.findGroup(input.vpcId, name);
      if (!group) throw new RemoteError(`security group ${name} was created but cannot be found`, true);
    }
    // Anyone may create a group with this name first; only a group tagged as ours is trusted.
    if (group.tags && (group.tags['holdfast:incident'] !== input.incident || group.tags['holdfast:role'] !== role)) {
      throw new RemoteError(
        `security group ${group.groupId} in ${input.vpcId} is named ${name} but is not tagged holdfast:incident=${input.incident}, holdfast:role=${role}; refusing to use it`,
        false,
      );
    }
    return group;
  };

  const convert = await ensure(
    'convert',
    `holdfast ${input.incident}: all traffic, to untrack connections before isolation`,
  );
  const convertIngress = missing([ALL_IPV4, ALL_IPV6], convert.ingress);
  if (convertIngress.length) await tolerateRace(() => api.authorizeIngress(convert.groupId, convertIngress));
  const convertEgress = missing([ALL_IPV4, ALL_IPV6], convert.egress);
  if (convertEgress.length) await tolerateRace(() => api.authorizeEgress(convert.groupId, convertEgress));

  const isolation = await ensure(
    'isolation',
    `holdfast ${input.incident}: isolation, ingress from forensic hosts only`,
  );
  const wanted = forensicIngressRules(input.forensicCidrs, input.forensicPorts);
  const ingress = missing(wanted, isolation.ingress);
  if (ingress.length) await tolerateRace(() => api.authorizeIngress(isolation.groupId, ingress));
  // A new group allows all egress (and ::/0 in IPv6 VPCs): describe what is there and revoke it all.
  const current = await api.describeGroup(isolation.groupId);
  if (current.egress.length) await tolerateRace(() => api.revokeEgress(isolation.groupId, current.egress));

  const check = await api.describeGroup(isolation.groupId);
  const extraIngress = missing(check.ingress, wanted);
  if (check.egress.length || extraIngress.length || missing(wanted, check.ingress).length) {
    // Ingress is never revoked (a different --forensic-cidr on a re-run lands here too): a person decides.
    throw new RemoteError(
      `isolation group ${isolation.groupId} does not have exactly the forensic rules (egress ${check.egress.length}, unexpected ingress: ${extraIngress.map(describeRule).join(', ') || 'none'}); refusing to use it`,
      false,
    );
  }
  return { convertGroupId: convert.groupId, isolationGroupId: isolation.groupId, created };
}

/**
 * Release of one resource's security groups (an ENI, a database): put the recorded originals back
 * only while the resource is still on groups this incident created (its isolation group, or its
 * convert group after an interrupted swap). Groups someone set since — a responder's forensic group,
 * another incident's isolation — are theirs to undo: release leaves them and says so, rather than
 * silently opening what another decision closed. `current` is undefined when the resource is gone.
 */
export async function releaseGroups(
  api: Pick<SecurityGroupApi, 'describeGroup'>,
  input: {
    incident: string;
    name: string;
    current: readonly string[] | undefined;
    before: readonly string[];
    restore: () => Promise<void>;
  },
): Promise<{ restored: boolean; note: string }> {
  const decision = await groupReleaseDecision(api, input);
  if (decision.act !== 'restore') return { restored: decision.act === 'already', note: decision.note };
  await input.restore();
  return {
    restored: true,
    note: `${input.name} back to ${input.before.join(', ')}; the isolation groups stay, tagged`,
  };
}

/**
 * What release does with an interface's groups as they are now (read-only; `release --dry-run`
 * asks it too, so the dry run promises what the run does): restore them, nothing (already back),
 * or leave them alone because someone changed them since capture.
 */
export async function groupReleaseDecision(
  api: Pick<SecurityGroupApi, 'describeGroup'>,
  input: { incident: string; name: string; current: readonly string[] | undefined; before: readonly string[] },
): Promise<{ act: 'restore' | 'already' | 'leave'; note: string }> {
  const { incident, name, current, before } = input;
  if (!current) return { act: 'leave', note: `${name} no longer exists` };
  if ([...current].sort().join() === [...before].sort().join())
    return { act: 'already', note: `${name} was already back on ${before.join(', ')}` };
  const foreign: string[] = [];
  for (const id of current) {
    const group = await api.describeGroup(id).catch(() => undefined);
    if (group?.tags?.['holdfast:incident'] !== incident) foreign.push(id);
  }
  if (!current.length || foreign.length)
    return {
      act: 'leave',
      note: `${name}: it is on ${current.join(', ') || 'no group'} now, not on groups holdfast set for ${incident}: changed since capture (by hand or another incident); left as it is — restore ${before.join(', ')} by hand if that is intended`,
    };
  return { act: 'restore', note: '' };
}
