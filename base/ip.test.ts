// Table tests for the one IP library: the behaviours policy/, the datapath, the router and the
// overlay allocator rely on, and a differential check against node:net's isIP.
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  bitAt,
  cidrContains,
  cidrLast,
  formatCidr,
  formatIp,
  formatIpBytes,
  fromBytes,
  maskBytes,
  parseCidr,
  parseCidrBytes,
  parseIp,
  parseIpBytes,
  parsePrefixBytes,
  rangeToCidrs,
  toBytes,
  unmapV4,
} from './ip.ts';

const fmt = (s: string, zone = false) => {
  const ip = parseIp(s, { zone });
  return ip && formatIp(ip.family, ip.value);
};

describe('parseIp and formatIp', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    // RFC 5952 4.2.2: a single zero group is not compressed
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // 4.2.3: the longest run wins; on a tie the first
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['fd00:0:0:1:0:0:0:0', 'fd00:0:0:1::'],
    ['fd00:1:2:3:4:5:6:7', 'fd00:1:2:3:4:5:6:7'],
    // an embedded IPv4 tail is two groups; printed in hex like the WHATWG URL serializer
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['::1.2.3.4', '::102:304'],
  ])('%s -> %s', (text, want) => expect(fmt(text)).toBe(want));

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.04',
    ' 1.2.3.4',
    '1.2.3.4/32',
    ':',
    ':1',
    '1:',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '12345::',
    'g::1',
    '::ffff:1.2.3',
    '::ffff:1.2.3.4:5',
    '1.2.3.4::',
    '1:2:3:4:5:6:7:1.2.3.4',
    'fe80::1%eth0',
  ])('rejects %j', (text) => expect(parseIp(text)).toBeNull());

  it('accepts and drops a zone only when asked, as a socket may report it', () => {
    expect(fmt('fe80::1%eth0', true)).toBe('fe80::1');
    expect(parseIp('fe80::1%', { zone: true })).toBeNull();
    expect(parseIp('1.2.3.4%eth0', { zone: true })).toBeNull();
  });

  it('accepts exactly what node:net isIP accepts (zones aside)', () => {
    const samples = [
      '1.1.1.1',
      '1.1.1.01',
      '1.1.1',
      '300.1.1.1',
      '::',
      '::1',
      '1::',
      '1::1',
      '1::1::1',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8:9',
      '::ffff:1.2.3.4',
      '::ffff:1.2.3.256',
      'ffff::1.2.3.4',
      '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6:7:1.2.3.4',
      'abcd::EF01',
      '0000:0000::00001',
      ':1',
      '1:',
      'x',
      '',
      '1.2.3.4 ',
      '::1.2.3.4',
    ];
    for (const s of samples) expect([s, parseIp(s) !== null]).toEqual([s, isIP(s) !== 0]);
  });

  it('round-trips random IPv6 values through text', () => {
    let seed = 7n;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 128n) - 1n);
      // zero out random groups so compression gets exercised
      let v = seed;
      for (let g = 0; g < 8; g++) if ((seed >> BigInt(g * 3)) & 1n) v &= ~(0xffffn << BigInt(g * 16));
      const text = formatIp(6, v);
      expect(parseIp(text)).toEqual({ family: 6, value: v });
      expect(isIP(text)).toBe(6);
    }
  });
});

describe('prefixes and ranges', () => {
  it.each([
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['10.1.2.3/32', '10.1.2.3/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::1/32', '2001:db8::/32'],
    ['2001:db8:ffff::/33', '2001:db8:8000::/33'],
    ['::/0', '::/0'],
  ])('parseCidr(%s) masks host bits: %s', (text, want) => expect(formatCidr(parseCidr(text)!)).toBe(want));

  it.each(['10.0.0.0', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/a', '10.0.0.0/-1', '10.0.0.0/1/2', 'x/8'])('parseCidr rejects %j', (text) =>
    expect(parseCidr(text)).toBeNull(),
  );

  it('a bare address is a host prefix when asked (router config, datapath tables)', () => {
    expect(formatCidr(parseCidr('10.0.0.9', { bare: true })!)).toBe('10.0.0.9/32');
    expect(formatCidr(parseCidr('fd00::9', { bare: true })!)).toBe('fd00::9/128');
  });

  it('cidrLast and cidrContains, per family', () => {
    const c = parseCidr('192.168.0.0/16')!;
    expect(formatIp(4, cidrLast(c))).toBe('192.168.255.255');
    expect(cidrContains(c, parseIp('192.168.7.7')!)).toBe(true);
    expect(cidrContains(c, parseIp('192.169.0.0')!)).toBe(false);
    expect(cidrContains(parseCidr('::/0')!, parseIp('10.0.0.1')!)).toBe(false);
    expect(formatIp(6, cidrLast(parseCidr('fd00::/120')!))).toBe('fd00::ff');
  });

  it.each([
    ['10.0.0.0', '10.0.0.255', ['10.0.0.0/24']],
    ['10.0.0.1', '10.0.0.6', ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32']],
    ['0.0.0.0', '255.255.255.255', ['0.0.0.0/0']],
    ['::', '::ffff:ffff:ffff:ffff', ['::/64']],
  ])('rangeToCidrs(%s, %s)', (lo, hi, want) => {
    const a = parseIp(lo)!;
    expect(rangeToCidrs(a.family, a.value, parseIp(hi)!.value).map(formatCidr)).toEqual(want);
  });

  it('unmapV4 turns an IPv4-mapped address into the IPv4 and leaves others', () => {
    expect(unmapV4(parseIp('::ffff:192.0.2.1')!)).toEqual(parseIp('192.0.2.1'));
    expect(unmapV4(parseIp('::fffe:192.0.2.1')!).family).toBe(6);
    expect(unmapV4(parseIp('192.0.2.1')!)).toEqual(parseIp('192.0.2.1'));
    expect(parseIp('::ffff:192.0.2.1', { unmapV4: true })).toEqual(parseIp('192.0.2.1'));
    expect(parseCidr('::ffff:10.0.0.0/8', { unmapV4: true })).toEqual(parseCidr('10.0.0.0/8'));
  });
});

describe('the byte view', () => {
  it('network order, 4 or 16 bytes, and back', () => {
    expect(Array.from(parseIpBytes('10.1.2.3')!.bytes)).toEqual([10, 1, 2, 3]);
    const v6 = parseIpBytes('2001:db8::ff00:1')!;
    expect(Array.from(v6.bytes)).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 1]);
    expect(formatIpBytes(v6)).toBe('2001:db8::ff00:1');
    expect(fromBytes(toBytes(6, 5n))).toBe(5n);
    expect(parseIpBytes('nope')).toBeNull();
  });

  it('parsePrefixBytes keeps the host bits as written; maskBytes clears them; bitAt reads MSB first', () => {
    const p = parsePrefixBytes('10.1.2.3/8')!;
    expect([Array.from(p.bytes), p.len]).toEqual([[10, 1, 2, 3], 8]);
    expect(Array.from(maskBytes(p.bytes, 12))).toEqual([10, 0, 0, 0]);
    expect(Array.from(maskBytes(Uint8Array.of(0xff, 0xff), 12))).toEqual([0xff, 0xf0]);
    expect(parsePrefixBytes('fd00::1', { bare: true })!.len).toBe(128);
    expect(parsePrefixBytes('10.0.0.1/33')).toBeNull();
    expect(parseCidrBytes('10.1.2.3/16')).toEqual({ family: 4, bytes: Uint8Array.of(10, 1, 0, 0), len: 16 });
    expect([0, 1, 7].map((i) => bitAt(Uint8Array.of(0x81), i))).toEqual([1, 0, 1]);
  });
});
