import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CidrTrie } from './cidr-trie.ts';
import { bitAt, formatIpBytes, maskBytes, parseCidrBytes, parseIpBytes, SOCKET_ADDRESS, type IpBytes } from '../base/index.ts';

const parseIp = (s: string) => parseIpBytes(s, SOCKET_ADDRESS);
const parseCidr = (s: string) => parseCidrBytes(s, { bare: true, ...SOCKET_ADDRESS });
const maskIp = (ip: IpBytes, len: number): IpBytes => ({ family: ip.family, bytes: maskBytes(ip.bytes, len) });

// The router reads addresses as a dual-stack socket reports them (base/ip.ts SOCKET_ADDRESS).
describe('ip as the router reads it', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s -> %s', (text, want) => expect(formatIpBytes(parseIp(text) as IpBytes)).toBe(want));

  it('rejects non-addresses and bad CIDRs', () => {
    for (const s of ['', '1.2.3', 'x::y', '300.1.1.1']) expect(parseIp(s)).toBeNull();
    for (const s of ['10.0.0.0/33', '10.0.0.0/x', 'nope/8', '::/129']) expect(parseCidr(s)).toBeNull();
    expect(formatIpBytes(parseCidr('10.1.2.3/16') as IpBytes)).toBe('10.1.0.0');
  });
});

const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b): IpBytes => ({ family: 4, bytes: b }));
const sameNet = (a: IpBytes, b: IpBytes, prefix: number) => {
  for (let i = 0; i < prefix; i++) if (bitAt(a.bytes, i) !== bitAt(b.bytes, i)) return false;
  return true;
};

describe('CidrTrie', () => {
  it('finds the longest prefix, and its scope holds: every address in client/scope gets the same match', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(v4, fc.integer({ min: 0, max: 32 })), { maxLength: 12 }),
        v4,
        fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { minLength: 20, maxLength: 20 }),
        (entries, client, noise) => {
          const trie = new CidrTrie<number>();
          const nets = entries.map(([ip, p], i) => ({ ...maskIp(ip, p), len: p, prefix: p, i }));
          nets.forEach((n) => trie.insert(n, n.i));
          const brute = (ip: IpBytes) => {
            let best: (typeof nets)[number] | null = null;
            for (const n of nets) if (sameNet(n, ip, n.prefix) && (!best || n.prefix > best.prefix || (n.prefix === best.prefix && n.i > best.i))) best = n;
            return best ? best.prefix : -1;
          };
          const { match, scope } = trie.lookup(client);
          expect(match?.prefix ?? -1).toBe(brute(client));
          // Addresses sharing `scope` leading bits with the client: same longest prefix.
          for (const n of noise) {
            const other = new Uint8Array(4);
            for (let bit = 0; bit < 32; bit++) {
              const v = bit < scope ? bitAt(client.bytes, bit) : bitAt(n, bit);
              other[bit >> 3] |= v << (7 - (bit & 7));
            }
            expect(brute({ family: 4, bytes: other })).toBe(match?.prefix ?? -1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('scope is as short as it can be: a bare /16 answers for the /16', () => {
    const t = new CidrTrie<string>();
    t.insert(parseCidr('10.1.0.0/16')!, 'a');
    expect(t.lookup(parseIp('10.1.2.3')!)).toEqual({ match: { value: 'a', prefix: 16 }, scope: 16 });
    t.insert(parseCidr('10.1.128.0/17')!, 'b');
    expect(t.lookup(parseIp('10.1.2.3')!).scope).toBe(17);
    expect(t.lookup(parseIp('11.0.0.1')!)).toEqual({ match: null, scope: 8 });
  });
});
