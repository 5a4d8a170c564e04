/** Forensic CIDR and port-range validation: the isolation group must never admit the world. */
import { isIPv4, isIPv6 } from 'node:net';
import { BadInputError } from './errors.js';
import type { Case, PortRange } from './types.js';

/** IPv4 forensic ranges wider than this prefix are refused (a /16 is already a whole site; 0.0.0.0/0 is the world). */
export const MIN_IPV4_FORENSIC_PREFIX = 16;
/** IPv6 equivalent: a /48 is one site; anything wider is not "the forensic hosts". */
export const MIN_IPV6_FORENSIC_PREFIX = 48;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** A problem with a forensic CIDR, or undefined when it is acceptable. */
export function forensicCidrProblem(cidr: string): string | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!match) return `"${cidr}" is not a CIDR (expected e.g. 203.0.113.7/32)`;
  // Both groups are required by the pattern, so a match always has them.
  const [, ip = '', prefixText = ''] = match;
  const prefix = Number(prefixText);
  if (isIPv4(ip)) {
    if (prefix > 32) return `"${cidr}": an IPv4 prefix is at most /32`;
    if (prefix < MIN_IPV4_FORENSIC_PREFIX) {
      return `"${cidr}" is wider than /${MIN_IPV4_FORENSIC_PREFIX}; forensic access must name the forensic hosts, not a network`;
    }
    const hostBits = 32 - prefix;
    const value = ipv4ToInt(ip);
    if (hostBits > 0 && value % 2 ** hostBits !== 0) {
      const base = value - (value % 2 ** hostBits);
      const dotted = [24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.');
      return `"${cidr}" has host bits set; did you mean ${dotted}/${prefix}?`;
    }
    return undefined;
  }
  if (isIPv6(ip)) {
    if (prefix > 128) return `"${cidr}": an IPv6 prefix is at most /128`;
    if (prefix < MIN_IPV6_FORENSIC_PREFIX) {
      return `"${cidr}" is wider than /${MIN_IPV6_FORENSIC_PREFIX}; forensic access must name the forensic hosts, not a network`;
    }
    return undefined;
  }
  return `"${cidr}" is not a CIDR: "${ip}" is not an IP address`;
}

/** Parse "22,443,8000-8100" into ranges; problems name the bad part. */
export function parsePortRanges(text: string): { ranges: PortRange[]; problems: string[] } {
  const ranges: PortRange[] = [];
  const problems: string[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const from = m ? Number(m[1]) : NaN;
    const to = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || from < 1 || to > 65535 || from > to)
      problems.push(`"${part}" is not a port or port range (1-65535, e.g. 22 or 8000-8100)`);
    else ranges.push({ from, to });
  }
  if (!ranges.length && !problems.length) problems.push('no ports given');
  return { ranges, problems };
}

/**
 * Forensic access is a decision: containment that cuts a target off must either admit the forensic
 * hosts or say, explicitly, that it admits nobody. `what` names the isolation (e.g. "the isolation
 * groups"). Returns the limitation to record when access was declined; throws, naming the input,
 * when neither was given. Nothing to decide without containment.
 */
export function forensicAccessDecision(
  kase: Pick<Case, 'contain' | 'forensicCidrs' | 'forensicAccess'>,
  what: string,
): string[] {
  if (!kase.contain || kase.forensicCidrs.length) return [];
  if (kase.forensicAccess === false)
    return [
      `forensic access declined: ${what} admit nobody, forensic hosts included (contained without forensic CIDRs, as decided)`,
    ];
  throw new BadInputError({
    field: 'forensicCidrs',
    message: `none given, and containment would leave ${what} admitting nobody, forensic hosts included: give the forensic hosts' CIDRs, or decide to contain without forensic access (\`forensicAccess\`)`,
    continues: true,
  });
}
