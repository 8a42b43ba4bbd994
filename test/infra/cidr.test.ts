import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../lib/cidr.js';

describe('parseCidr', () => {
  it.each<[string, string, 4 | 6]>([
    ['203.0.113.7', '203.0.113.7/32', 4],
    ['203.0.113.7/32', '203.0.113.7/32', 4],
    [' 10.0.0.0/8 ', '10.0.0.0/8', 4],
    ['2001:db8::/32', '2001:db8::/32', 6],
    ['2001:DB8:0:0:0:0:0:0/32', '2001:db8::/32', 6],
    ['2001:db8::1', '2001:db8::1/128', 6],
    ['::ffff:192.0.2.1', '::ffff:c000:201/128', 6],
    ['1:2:3:4:5:6:7:8/128', '1:2:3:4:5:6:7:8/128', 6],
  ])('accepts %s as %s', (input, cidr, family) => {
    expect(parseCidr(input)).toEqual({ cidr, family });
  });

  it.each<[string, string]>([
    ['not-an-ip', 'is not an IPv4 or IPv6 address or CIDR'],
    ['300.1.1.1/32', 'is not an IPv4 or IPv6 address or CIDR'],
    ['fe80::1%eth0', 'is not an IPv4 or IPv6 address or CIDR'],
    ['10.0.0.0/x', 'has a prefix length that is not a number from 1 to 32'],
    ['10.0.0.0/33', 'has a prefix length above 32, the maximum for IPv4'],
    ['2001:db8::/129', 'has a prefix length above 128, the maximum for IPv6'],
    ['0.0.0.0/0', 'would allow every address'],
    ['::/0', 'would allow every address'],
    ['192.0.2.1/24', "has host bits set after the /24 prefix; use '192.0.2.0/24'"],
    ['2001:db8::1/64', "has host bits set after the /64 prefix; use '2001:db8::/64'"],
  ])('refuses %s', (input, problem) => {
    const result = parseCidr(input);
    expect(result).toHaveProperty('problem');
    expect((result as { problem: string }).problem).toContain(problem);
  });
});
