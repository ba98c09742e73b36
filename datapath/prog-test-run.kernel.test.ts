// The programs on crafted frames through BPF_PROG_TEST_RUN: what the parser passes, drops (and
// under which counted reason) and never crashes on. Protocol verdicts shared with the in-memory datapath are in the contract test.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DROP_REASON_NAMES, type DropReason } from './drop-reasons.ts';
import { DatapathError } from './errors.ts';
import { LibbpfDatapath } from './libbpf-datapath.ts';
import { arpFrame, frame } from './packet.ts';
import { fixtureTables } from './testing/tables.ts';
import { kernelSkipReason, openTestDatapath, uniquePinRoot } from './testing/kernel.ts';

const A = { web: '10.9.0.2', db: '10.9.0.3', api: '10.9.0.4', web6: 'fd09::2', db6: 'fd09::3' };
const denied = { proto: 6, src: A.api, dst: A.db, sport: 1234, dport: 5432 };
const denied6 = { proto: 6, src: 'fd09::99', dst: A.db6, sport: 1234, dport: 5432 };

describe.skipIf(kernelSkipReason)('pod programs under BPF_PROG_TEST_RUN', () => {
  let dp: LibbpfDatapath;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dp, cleanup } = await openTestDatapath());
  });
  afterAll(async () => cleanup?.());

  it('passes everything while no generation is applied', async () => {
    expect(dp.testRun('ingress', frame(denied)).pass).toBe(true);
    await dp.apply(fixtureTables(A), 1);
    expect(dp.testRun('ingress', frame(denied)).pass).toBe(false);
  });

  it.each([
    ['ARP', arpFrame(), 'pass'],
    ['IPv4 later fragment', frame({ ...denied, fragOffset: 100 }), 'pass'],
    ['IPv4 fragment at offset 8 bytes (could rewrite ports)', frame({ ...denied, fragOffset: 1 }), 'tiny-fragment'],
    ['IPv4 first fragment is judged', frame({ ...denied, moreFragments: true }), 'policy'],
    ['IPv6 later fragment', frame({ ...denied6, fragOffset: 100 }), 'pass'],
    ['IPv6 first fragment is judged through the extension header', frame({ ...denied6, fragOffset: 0, moreFragments: true }), 'policy'],
    ['IPv6 denied', frame(denied6), 'policy'],
    ['IPv6 neighbor advertisement', frame({ proto: 58, src: 'fe80::2', dst: A.db6, sport: 136, dport: 0 }), 'pass'],
    [
      'IPv4 options claimed but missing',
      (() => {
        const f = frame(denied).subarray(0, 14 + 20);
        f[14] = 0x4f;
        f.writeUInt16BE(60, 16);
        return f;
      })(),
      'truncated-ip',
    ],
    ['TCP ports cut short', frame(denied).subarray(0, 14 + 20 + 2), 'truncated-l4'],
    ['ICMP header cut short', frame({ proto: 1, src: A.api, dst: A.db, sport: 8, dport: 0 }).subarray(0, 14 + 20 + 4), 'truncated-l4'],
    [
      'IPv4 with a bad header length',
      (() => {
        const f = frame(denied);
        f[14] = 0x43;
        return f;
      })(),
      'bad-ip-header',
    ],
    [
      'IPv4 with a wrong version',
      (() => {
        const f = frame(denied);
        f[14] = 0x55;
        return f;
      })(),
      'bad-ip-header',
    ],
    [
      'IPv6 with a wrong version',
      (() => {
        const f = frame(denied6);
        f[14] = 0x40;
        return f;
      })(),
      'bad-ip-header',
    ],
    ['IPv6 TCP ports cut short', frame(denied6).subarray(0, 14 + 40 + 2), 'truncated-l4'],
    ['IPv6 extension header cut short', frame({ ...denied6, fragOffset: 0, moreFragments: true }).subarray(0, 14 + 40 + 4), 'truncated-ipv6-ext'],
    [
      'another ethertype (LLDP) passes',
      (() => {
        const f = Buffer.alloc(60);
        f.writeUInt16BE(0x88cc, 12);
        return f;
      })(),
      'pass',
    ],
    ['UDP (lookup by port)', frame({ ...denied, proto: 17 }), 'policy'],
    ['GRE: a protocol without ports uses port 0', frame({ ...denied, proto: 47 }), 'policy'],
  ] satisfies [string, Buffer, 'pass' | DropReason][])('%s: %s', async (_what, f, want) => {
    if ((await dp.appliedGeneration()) === 0) await dp.apply(fixtureTables(A), 1);
    const before = (await dp.counters()).drops;
    expect(dp.testRun('ingress', f).pass).toBe(want === 'pass');
    // Every drop is counted once, under its reason, with the frame's length; a pass counts nothing.
    const after = (await dp.counters()).drops;
    const changed = DROP_REASON_NAMES.filter((r) => after[r].packets !== before[r].packets || after[r].bytes !== before[r].bytes).map((r) => ({
      reason: r,
      packets: after[r].packets - before[r].packets,
      bytes: after[r].bytes - before[r].bytes,
    }));
    expect(changed).toEqual(want === 'pass' ? [] : [{ reason: want, packets: 1n, bytes: BigInt(f.length) }]);
  });

  // The kernel's test run itself refuses IP frames shorter than an IP header, so garbage starts there.
  it('survives random garbage after a valid Ethernet header', async () => {
    for (let i = 0; i < 300; i++) {
      const f = Buffer.concat([
        frame(i % 3 ? denied : denied6).subarray(0, 14),
        Buffer.from(Array.from({ length: 40 + (i % 90) }, () => (Math.random() * 256) | 0)),
      ]);
      const r = dp.testRun(i % 2 ? 'ingress' : 'egress', f);
      expect([0, 2]).toContain(r.retval);
    }
  });

  it('counts the events a full ring buffer could not take', async () => {
    // One page of ring buffer holds 56 events; 1000 denied packets, nobody draining.
    const small = await openTestDatapath({ ringBufferBytes: 4096 });
    try {
      await small.dp.apply(fixtureTables(A), 1);
      expect(small.dp.testRun('ingress', frame(denied), 1000).pass).toBe(false);
      const c = await small.dp.counters();
      const denies = c.byEndpoint.find((s) => s.endpointId === 2 && s.verdict === 'deny')!.packets;
      expect(denies).toBe(1000n);
      expect(c.eventsLost).toBeGreaterThan(900n);
      expect(c.eventsLost).toBeLessThan(1000n);
    } finally {
      await small.cleanup();
    }
  });

  it('other map sizes load beside the pinned maps, into their own layout directory, which they will replace', async () => {
    // libbpf cannot reuse a pinned map of another capacity: new limits are handled like an upgrade.
    const resized = await LibbpfDatapath.open({ pinRoot: dp.pinRoot, limits: { endpoints: 8, ipcache: 8, sets: 8, rules: 8 } });
    try {
      expect(resized.layoutRoot).not.toBe(dp.layoutRoot);
      expect(resized.pendingPredecessors).toContain(dp.layoutRoot);
    } finally {
      await resized.close(); // never applied: dp's pins stay
      rmSync(resized.layoutRoot, { recursive: true, force: true });
    }
    expect(await dp.appliedGeneration()).toBeGreaterThan(0);
  });

  it('refuses a pin root outside bpffs', async () => {
    await expect(LibbpfDatapath.open({ pinRoot: `/tmp/${uniquePinRoot().split('/').pop()}` })).rejects.toSatisfy(
      (e) => e instanceof DatapathError && e.code === 'DATAPATH_KERNEL_FEATURE' && /bpffs/.test(e.message),
    );
  });
});
