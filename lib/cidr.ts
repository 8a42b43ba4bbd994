import { isIPv4, isIPv6 } from 'node:net';

/** A CIDR that passed {@link parseCidr}: normalised text and its address family. */
export interface ParsedCidr {
  readonly cidr: string;
  readonly family: 4 | 6;
}

/** Why a CIDR was refused, as a phrase that follows the bad value in an error message. */
export type CidrProblem = string;

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function bigIntToIpv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 0xffn)).join('.');
}

/** Expands an IPv6 address (already validated; `::` and an embedded IPv4 tail allowed) to 8 hextets. */
function ipv6Hextets(address: string): number[] {
  let text = address;
  const tail: number[] = [];
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const v4 = ipv4ToBigInt(text.slice(lastColon + 1));
    tail.push(Number((v4 >> 16n) & 0xffffn), Number(v4 & 0xffffn));
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.split('::');
  const hextets = (part: string | undefined) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = hextets(head);
  const right = hextets(rest);
  const missing = 8 - left.length - right.length - tail.length;
  return [...left, ...Array<number>(missing).fill(0), ...right, ...tail];
}

function ipv6ToBigInt(address: string): bigint {
  return ipv6Hextets(address).reduce((acc, h) => (acc << 16n) | BigInt(h), 0n);
}

function bigIntToIpv6(n: bigint): string {
  const hextets = [...Array(8).keys()].map((i) => Number((n >> BigInt((7 - i) * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero hextets, as the canonical form (RFC 5952) does.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (hextets[i] !== '0') {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === '0') j += 1;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return hextets.join(':');
  const head = hextets.slice(0, best.start).join(':');
  const tail = hextets.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}

/**
 * Parses an IPv4 or IPv6 CIDR the way AWS WAF IP sets accept it. A bare address is taken as a
 * single host (`/32` or `/128`). Returns the problem instead when the text is not a usable CIDR:
 * not an address, a prefix out of range, `/0` (WAF refuses it, and it would let the whole internet
 * in), or host bits set after the prefix (the message names the network meant).
 */
export function parseCidr(text: string): ParsedCidr | { problem: CidrProblem } {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash < 0 ? undefined : trimmed.slice(slash + 1);
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined || address.includes('%')) {
    return { problem: 'is not an IPv4 or IPv6 address or CIDR (e.g. 203.0.113.7/32 or 2001:db8::/64)' };
  }
  const bits = family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) {
    return { problem: `has a prefix length that is not a number from 1 to ${bits}` };
  }
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix === 0) return { problem: 'would allow every address; AWS WAF refuses /0 (list the ranges you mean)' };
  if (prefix > bits) return { problem: `has a prefix length above ${bits}, the maximum for IPv${family}` };
  const value = family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const network = value & ~hostMask & ((1n << BigInt(bits)) - 1n);
  const networkText = family === 4 ? bigIntToIpv4(network) : bigIntToIpv6(network);
  if ((value & hostMask) !== 0n) {
    return { problem: `has host bits set after the /${prefix} prefix; use '${networkText}/${prefix}'` };
  }
  return { cidr: `${networkText}/${prefix}`, family };
}
