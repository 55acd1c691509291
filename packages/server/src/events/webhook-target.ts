import ipaddr from 'ipaddr.js';

/*
 * Which addresses a webhook may be delivered to. A webhook URL is chosen by a workspace admin, and
 * the service POSTs to it from inside the operator's network: without a rule, anyone who may add a
 * webhook could make the service call its metadata endpoint (169.254.169.254), a database port on
 * loopback or an internal admin page (Companion's SSRF advisories). Only public unicast addresses
 * are allowed, unless the operator names more (WEBHOOK_ALLOWED_PRIVATE_TARGETS). The rule is
 * applied to the address actually connected to, after DNS, so a name that resolves elsewhere on
 * the second lookup (DNS rebinding) gains nothing.
 */

/** Names an operator may allow besides subnets: IPv4 private and IPv6 unique local count as `private`. */
export const TARGET_RANGE_NAMES = ['loopback', 'private', 'linklocal', 'uniquelocal'] as const;

type RangeName = (typeof TARGET_RANGE_NAMES)[number];

/** ipaddr.js's names of the ranges each of ours covers. */
const RANGES_OF: Record<RangeName, readonly string[]> = {
  loopback: ['loopback'],
  private: ['private', 'uniqueLocal'],
  linklocal: ['linkLocal'],
  uniquelocal: ['uniqueLocal'],
};

export interface TargetRules {
  /** Subnets (`10.0.0.0/8`, `127.0.0.1/32`, `::1/128`) and range names allowed although not public. */
  allowedPrivateTargets: readonly string[];
}

export const PUBLIC_TARGETS_ONLY: TargetRules = { allowedPrivateTargets: [] };

/** Whether an entry of WEBHOOK_ALLOWED_PRIVATE_TARGETS can be read: a range name, an address or a subnet. */
export function isTargetRuleEntry(entry: string): boolean {
  if ((TARGET_RANGE_NAMES as readonly string[]).includes(entry)) return true;
  return ipaddr.isValid(entry) || ipaddr.isValidCIDR(entry);
}

/** Whether a delivery may connect to `address` (an IP literal, v4 or v6). */
export function isAllowedTarget(address: string, rules: TargetRules): boolean {
  if (!ipaddr.isValid(address)) return false;
  // ::ffff:10.0.0.1 is 10.0.0.1: judged as the IPv4 address it reaches.
  const ip = ipaddr.process(address);
  const range = ip.range();
  if (range === 'unicast') return true;
  return rules.allowedPrivateTargets.some((entry) => allows(entry, ip, range));
}

function allows(entry: string, ip: ipaddr.IPv4 | ipaddr.IPv6, range: string): boolean {
  const names = RANGES_OF[entry as RangeName];
  if (names) return names.includes(range);
  const [base, bits] = ipaddr.isValidCIDR(entry) ? ipaddr.parseCIDR(entry) : [ipaddr.parse(entry), undefined];
  const subnetBase = base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() ? (base as ipaddr.IPv6).toIPv4Address() : base;
  if (subnetBase.kind() !== ip.kind()) return false;
  const width = bits ?? (ip.kind() === 'ipv4' ? 32 : 128);
  return ip.match(subnetBase, subnetBase === base ? width : Math.max(0, width - 96));
}

/** A host name as URL gives it, without IPv6's brackets. */
export function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** ipaddr.js's name of the range an address lies in (`loopback`, `linkLocal`, `carrierGradeNat`, `unicast`, ...), for messages. */
export function targetRangeOf(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.process(address).range() : 'invalid';
}
