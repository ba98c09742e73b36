// Keeps the learned FQDN addresses in the store. The kernel learns them by itself (bpf/lib/dns.h) and
// its pinned map is the truth while the node runs: a killed or offline agent changes nothing there.
// This copy is for what the pinned map does not survive: a reboot (bpffs is memory) and an upgrade into
// a fresh map layout. At boot it puts the unexpired stored addresses back (merged: the later expiry
// wins); every `syncMs` it sweeps what expired from the kernel map and writes the map to the store.
// Expiries are CLOCK_MONOTONIC in the kernel and wall-clock in the store (the monotonic clock restarts
// at boot), converted with the two clocks read together.
import type { AgentStore, LearnedAddress } from '../offline-store/index.ts';
import type { Logger } from './logger.ts';

/** What the keeper needs of the kernel datapath (LibbpfDatapath has it). */
export interface LearnedMap {
  patternKey(pattern: string): bigint;
  learned(): { addr: string; hits: { pattern: bigint; expiresNs: bigint }[] }[];
  restoreLearned(entries: readonly { addr: string; pattern: bigint; expiresNs: bigint }[], nowNs?: bigint): number;
  sweepLearned(nowNs?: bigint): number;
}

export function hasLearnedMap(dp: object): dp is LearnedMap {
  return 'learned' in dp && 'restoreLearned' in dp && 'patternKey' in dp;
}

export interface FqdnKeeperOptions {
  map: LearnedMap;
  store: AgentStore;
  log: Logger;
  syncMs: number;
  /** Wall clock (ms) and monotonic clock (ns, as bpf_ktime_get_ns): injected for tests. */
  wallMs?: () => number;
  monoNs?: () => bigint;
}

export class FqdnKeeper {
  /** Pattern text by kernel key: the applied tables' patterns and those already in the store. */
  private readonly names = new Map<bigint, string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly wallMs: () => number;
  private readonly monoNs: () => bigint;

  constructor(private readonly o: FqdnKeeperOptions) {
    this.wallMs = o.wallMs ?? Date.now;
    this.monoNs = o.monoNs ?? process.hrtime.bigint;
  }

  /** Patterns of newly applied tables, so their kernel keys can be named in the store. */
  know(patterns: readonly string[]): void {
    for (const p of patterns) this.names.set(this.o.map.patternKey(p), p);
  }

  /** Boot: the stored unexpired addresses back into the kernel map. Returns how many addresses were written. */
  restore(): number {
    const stored = this.o.store.fqdn.unexpired(this.wallMs());
    this.know(stored.map((e) => e.pattern));
    const offset = this.offsetNs();
    const n = this.o.map.restoreLearned(
      stored.map((e) => ({ addr: e.addr, pattern: this.o.map.patternKey(e.pattern), expiresNs: BigInt(e.expiresAt) * 1_000_000n - offset })),
      this.monoNs(),
    );
    if (n > 0) this.o.log.info({ addresses: n }, 'fqdn: learned addresses restored from the store');
    return n;
  }

  /** Sweeps expired kernel entries and writes the map to the store. */
  sync(): { addresses: number; swept: number } {
    const now = this.monoNs();
    const swept = this.o.map.sweepLearned(now);
    const offset = this.offsetNs();
    const rows: LearnedAddress[] = [];
    for (const e of this.o.map.learned())
      for (const h of e.hits) {
        const pattern = this.names.get(h.pattern);
        if (pattern !== undefined && h.expiresNs > now) rows.push({ addr: e.addr, pattern, expiresAt: Number((h.expiresNs + offset) / 1_000_000n) });
      }
    if (this.o.store.writable) this.o.store.fqdn.replaceAll(rows);
    return { addresses: rows.length, swept };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.sync();
      } catch (e) {
        this.o.log.warn({ err: String(e) }, 'fqdn: could not copy the learned addresses to the store; the kernel keeps enforcing them');
      }
    }, this.o.syncMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** wall ns - monotonic ns, now. */
  private offsetNs(): bigint {
    return BigInt(this.wallMs()) * 1_000_000n - this.monoNs();
  }
}
