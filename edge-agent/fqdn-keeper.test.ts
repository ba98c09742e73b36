// The keeper between the kernel's learned map and the store, with a real SQLite store and a map
// fake (the kernel map itself is exercised by datapath/fqdn.kernel.test.ts and field-tests/fqdn).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../offline-store/index.ts';
import { FqdnKeeper, type LearnedMap } from './fqdn-keeper.ts';
import { createLogger } from './logger.ts';

const log = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'wfq-keeper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The kernel map's semantics in memory: per address, per pattern key, the later expiry. */
class FakeMap implements LearnedMap {
  readonly m = new Map<string, Map<bigint, bigint>>();
  patternKey(p: string): bigint {
    return BigInt(p.length * 1000 + p.charCodeAt(0));
  }
  learned() {
    return [...this.m].map(([addr, hits]) => ({ addr, hits: [...hits].map(([pattern, expiresNs]) => ({ pattern, expiresNs })) }));
  }
  restoreLearned(entries: readonly { addr: string; pattern: bigint; expiresNs: bigint }[], nowNs = 0n): number {
    const touched = new Set<string>();
    for (const e of entries) {
      if (e.expiresNs <= nowNs) continue;
      const hits = this.m.get(e.addr) ?? new Map<bigint, bigint>();
      if ((hits.get(e.pattern) ?? 0n) < e.expiresNs) hits.set(e.pattern, e.expiresNs);
      this.m.set(e.addr, hits);
      touched.add(e.addr);
    }
    return touched.size;
  }
  sweepLearned(nowNs = 0n): number {
    let n = 0;
    for (const [addr, hits] of this.m)
      if ([...hits.values()].every((x) => x <= nowNs)) {
        this.m.delete(addr);
        n++;
      }
    return n;
  }
}

describe('FqdnKeeper', () => {
  it('copies the kernel map to the store and back after a "reboot" (monotonic clock restarted)', () => {
    const path = join(dir, 'agent.db');
    let wall = 1_700_000_000_000;
    let mono = 5_000_000_000n; // 5 s after boot
    const store = openStore(path, { clock: () => wall });
    const map = new FakeMap();
    const keeper = new FqdnKeeper({ map, store, log, syncMs: 1000, wallMs: () => wall, monoNs: () => mono });
    keeper.know(['api.example.com', '*.cdn.test']);
    map.restoreLearned([
      { addr: '203.0.113.1', pattern: map.patternKey('api.example.com'), expiresNs: mono + 60_000_000_000n },
      { addr: '203.0.113.2', pattern: map.patternKey('*.cdn.test'), expiresNs: mono + 2_000_000_000n },
      { addr: '203.0.113.3', pattern: 999n, expiresNs: mono + 60_000_000_000n }, // a pattern nobody can name: not stored
    ]);
    expect(keeper.sync()).toEqual({ addresses: 2, swept: 0 });
    expect(store.fqdn.unexpired().map((e) => [e.addr, e.pattern, e.expiresAt - wall])).toEqual([
      ['203.0.113.1', 'api.example.com', 60_000],
      ['203.0.113.2', '*.cdn.test', 2_000],
    ]);
    store.close();

    // Reboot 10 s later: a fresh map, the monotonic clock at 1 s.
    wall += 10_000;
    mono = 1_000_000_000n;
    const store2 = openStore(path, { clock: () => wall });
    const map2 = new FakeMap();
    const keeper2 = new FqdnKeeper({ map: map2, store: store2, log, syncMs: 1000, wallMs: () => wall, monoNs: () => mono });
    expect(keeper2.restore()).toBe(1); // 203.0.113.2 expired meanwhile
    const [only] = map2.learned();
    expect(only.addr).toBe('203.0.113.1');
    expect(only.hits[0].expiresNs - mono).toBe(50_000_000_000n); // 60 s - 10 s of reboot
    // The keeper names the restored pattern in its next copy, and sweeps expired kernel entries.
    mono += 51_000_000_000n;
    wall += 51_000;
    expect(keeper2.sync()).toEqual({ addresses: 0, swept: 1 });
    expect(store2.fqdn.count()).toBe(0);
    store2.close();
  });
});
