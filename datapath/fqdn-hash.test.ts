// The pattern hash agrees with the one-pass suffix hashing the kernel does (bpf/lib/dns.h): the hash
// of every suffix of a name, computed from the prefix sums and the inverse multiplier, equals the
// direct hash of that suffix; the wildcard never equals the exact pattern.
import { describe, expect, it } from 'vitest';
import { FQDN_WILDCARD, inverseOdd, nameHash, nameWire, patternHash, randomHashBase } from './fqdn-hash.ts';

const MASK = (1n << 64n) - 1n;

describe('fqdn-hash', () => {
  it('inverts odd multipliers mod 2^64', () => {
    for (let i = 0; i < 20; i++) {
      const b = randomHashBase();
      expect((b * inverseOdd(b)) & MASK).toBe(1n);
    }
  });

  it('hashes every suffix in one forward pass, as the kernel does', () => {
    const base = randomHashBase();
    const inv = inverseOdd(base);
    const name = 'A.b-c.Example.COM';
    const wire = nameWire(name);
    let sum = 0n;
    let pow = 1n;
    let ipow = 1n;
    const starts: { sum: bigint; ipow: bigint; at: number }[] = [];
    let remaining = 0;
    wire.forEach((b, i) => {
      if (remaining === 0) {
        starts.push({ sum, ipow, at: i });
        remaining = b;
      } else remaining--;
      sum = (sum + BigInt(b) * pow) & MASK;
      pow = (pow * base) & MASK;
      ipow = (ipow * inv) & MASK;
    });
    const labels = name.toLowerCase().split('.');
    starts.forEach((s, k) => expect(((sum - s.sum) * s.ipow) & MASK).toBe(nameHash(labels.slice(k).join('.'), base)));
  });

  it('wildcards differ from exact names; case and the trailing dot do not matter', () => {
    const b = randomHashBase();
    expect(patternHash('*.example.com', b)).toBe(nameHash('example.com', b) ^ FQDN_WILDCARD);
    expect(patternHash('*.example.com', b)).not.toBe(patternHash('example.com', b));
    expect(patternHash('API.Example.com.', b)).toBe(patternHash('api.example.com', b));
  });
});
