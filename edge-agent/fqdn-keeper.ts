// Keeps the learned FQDN addresses in the store. The kernel learns them by itself (bpf/lib/dns.h) and
// its pinned map is the truth while the node runs: a killed or offline agent changes nothing there.
// This copy is for what the pinned map does not survive: a reboot (bpffs is memory) and an upgrade into
// a fresh map layout. At boot it puts the unexpired stored addresses back (merged: the later expiry
// wins); every `syncMs` it sweeps what expired from the kernel map and copies it to the store, where
// only rows that changed are written (an appliance's flash should not be rewritten whole each time).
// Both walk the entries one at a time: 10 000 learned addresses must not cost the agent megabytes.
// Expiries are CLOCK_MONOTONIC in the kernel and wall-clock in the store (the monotonic clock restarts
// at boot), converted with the two clocks read together.
import type { AgentStore } from '../offline-store/index.ts';
import type { Logger } from './logger.ts';

/** What the keeper needs of the kernel datapath (LibbpfDatapath has it). */
export interface LearnedMap {
  patternKey(pattern: string): bigint;
  forEachLearned(fn: (addr: string, pattern: bigint, expiresNs: bigint) => void): void;
  restoreLearned(entries: readonly { addr: string; pattern: bigint; expiresNs: bigint }[], nowNs?: bigint): number;
  sweepLearned(nowNs?: bigint): number;
  /** Whether the kernel map holds any address (adopted pins after a restart). */
  hasLearned(): boolean;
}

export function hasLearnedMap(dp: object): dp is LearnedMap {
  return 'forEachLearned' in dp && 'restoreLearned' in dp && 'patternKey' in dp;
}

/** Stored addresses put back per batch at boot: the agent never holds them all. */
const RESTORE_CHUNK = 256;

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

  /** Boot: the stored unexpired addresses back into the kernel map, a chunk at a time. Returns how many addresses were written. */
  restore(): number {
    this.know(this.o.store.fqdn.patterns());
    // Pins adopted after a restart: the kernel kept learning and expiring while the agent was away,
    // so its map is newer than the store; only an empty map (a reboot, a fresh layout) takes the copy.
    if (this.o.map.hasLearned()) return 0;
    const offset = this.offsetNs();
    const nowNs = this.monoNs();
    let chunk: { addr: string; pattern: bigint; expiresNs: bigint }[] = [];
    let n = 0;
    const flush = () => {
      n += this.o.map.restoreLearned(chunk, nowNs);
      chunk = [];
    };
    this.o.store.fqdn.forEachUnexpired((e) => {
      // Rows come in address order: a chunk ends between two addresses, so each is merged once.
      if (chunk.length >= RESTORE_CHUNK && chunk[chunk.length - 1].addr !== e.addr) flush();
      chunk.push({ addr: e.addr, pattern: this.o.map.patternKey(e.pattern), expiresNs: BigInt(e.expiresAt) * 1_000_000n - offset });
    }, this.wallMs());
    flush();
    if (n > 0) this.o.log.info({ addresses: n }, 'fqdn: learned addresses restored from the store');
    return n;
  }

  /** Sweeps expired kernel entries and copies the map to the store (only rows that changed are written). */
  sync(): { swept: number; written: number } {
    const now = this.monoNs();
    const swept = this.o.map.sweepLearned(now);
    const offset = this.offsetNs();
    if (!this.o.store.writable) return { swept, written: 0 };
    const written = this.o.store.fqdn.sync((put) => {
      this.o.map.forEachLearned((addr, key, expiresNs) => {
        const pattern = this.names.get(key);
        if (pattern !== undefined && expiresNs > now) put(addr, pattern, Number((expiresNs + offset) / 1_000_000n));
      });
    }, this.wallMs());
    return { swept, written };
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
