// The kernel datapath: loads bpf/pod_{egress,ingress}.bpf.c through the libbpf addon, pins their
// maps under a pin root so enforcement outlives this process, writes each generation into the
// inactive half of the tables and makes it live with one 8-byte map update.
import { errno, errorMessage } from '../base/index.ts';
import { mkdirSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { DEFAULT_LIMITS, type MapLimits, type Tables } from '../policy/index.ts';
import { artifactPaths, BPF_PROGRAMS, type ArtifactPaths } from './artifacts.ts';
import { checkTables } from './check-tables.ts';
import type { Counters, Datapath, Endpoint, VerdictEvent } from './datapath.ts';
import { DROP_REASONS, DROP_SLOTS, noDrops, type DropReason } from './drop-reasons.ts';
import { DatapathError } from './errors.ts';
import { EventStream } from './event-stream.ts';
import { hasPorts } from './flow.ts';
import { inverseOdd, patternHash, randomHashBase } from './fqdn-hash.ts';
import { tableAddr, tablePrefix } from './check-tables.ts';
import { ensureBpffs } from './bpffs.ts';
import { checkKernelVersion, explainNativeError } from './kernel-features.ts';
import * as L from './layout.ts';
import type { MapName } from './layout.ts';
import { BPF_ANY, native, type BpfObjectHandle, type NativeBpf, type NativeError, type RingBufferHandle } from './native.ts';
import { carryEntries, findPredecessors, layoutDir, layoutFingerprint, pinnedMaps, removePredecessor, type Predecessor } from './pin-layout.ts';

export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/weft';
/** Our tc filter: a fixed handle and priority, so a restarted agent replaces its own filter in place. */
const TC_HANDLE = 0x5746;
const TC_PRIORITY = 1;

export interface LibbpfDatapathOptions {
  /**
   * bpffs directory for the pinned maps (default /sys/fs/bpf/weft; tests use a unique one). The maps
   * live in its `layout-<fingerprint>` subdirectory (pin-layout.ts).
   */
  pinRoot?: string;
  limits?: MapLimits;
  /** Report one allow in `allowSampleRate` (0: none). */
  allowSampleRate?: number;
  conntrackSize?: number;
  countersSize?: number;
  ringBufferBytes?: number;
  /** Network namespace (a path such as /run/netns/node1) holding the host-side interfaces; default: ours. */
  netns?: string;
  artifacts?: ArtifactPaths;
  /** Applies, attaches and detaches are logged here (info/debug); nothing when absent. */
  logger?: Logger;
  /** FQDN learning: a learned address lives max(TTL, fqdnMinTtl) + fqdnGrace seconds (defaults 30 and 10). */
  fqdnMinTtl?: number;
  fqdnGrace?: number;
  /** Capacity of the learned-address map (LRU; default 65536) and of each half of the pattern map (default 4096). */
  fqdnLearnedSize?: number;
  fqdnPatterns?: number;
}

export const DEFAULT_FQDN_MIN_TTL = 30;
export const DEFAULT_FQDN_GRACE = 10;

type SlottedKey = 'weft_endpoint_key' | 'weft_ipcache_key' | 'weft_set_key' | 'weft_rule_key' | 'weft_fqdn_name_key';

/** The maps that hold the two halves of the tables, each with its key struct (slot inside). */
export const SLOTTED_MAPS = [
  ['weft_endpoints', 'weft_endpoint_key'],
  ['weft_ipcache_hosts', 'weft_ipcache_key'],
  ['weft_ipcache', 'weft_ipcache_key'],
  ['weft_sets', 'weft_set_key'],
  ['weft_rules_exact', 'weft_rule_key'],
  ['weft_rules', 'weft_rule_key'],
  ['weft_fqdn_names', 'weft_fqdn_name_key'],
] as const satisfies readonly (readonly [MapName, SlottedKey])[];

interface TableWrite {
  map: (typeof SLOTTED_MAPS)[number][0];
  keyStruct: SlottedKey;
  slot: number;
  entries: [Buffer, Buffer][];
  /** Hash maps take batch operations; LPM tries do not. */
  batch: boolean;
}

/**
 * Every map's capacity for these options. Both halves of each table live in one map: twice the configured
 * capacity. The ring buffer: 256 KiB holds ~3600 verdict events (72 bytes each with its header) between
 * two reads of the event loop, and costs its size twice in RSS (libbpf maps the data pages twice).
 */
function mapSizes(opts: LibbpfDatapathOptions): Record<string, number> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  return {
    weft_endpoints: 2 * limits.endpoints,
    weft_ipcache: 2 * limits.ipcache,
    weft_ipcache_hosts: 2 * limits.ipcache,
    weft_sets: 2 * limits.sets,
    weft_rules: 2 * limits.rules,
    weft_rules_exact: 2 * limits.rules,
    weft_ct: opts.conntrackSize ?? 65536,
    weft_counters: opts.countersSize ?? 65536,
    // Fixed by the reasons, but part of the fingerprint: a release that adds a reason needs a new map.
    weft_drops: DROP_SLOTS,
    weft_events: opts.ringBufferBytes ?? 256 << 10,
    weft_fqdn_names: 2 * (opts.fqdnPatterns ?? 4096),
    weft_fqdn_learned: opts.fqdnLearnedSize ?? 65536,
  };
}
export class LibbpfDatapath implements Datapath {
  private readonly fds: Record<MapName, number>;
  private readonly stream = new EventStream();
  private readonly ring: RingBufferHandle;
  private readonly cpus: number;
  /** Applies run one at a time: each reads the live slot and writes the other. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The grace period after the last switch: the next apply waits for it before reusing the old slot. */
  private grace: Promise<void>;
  private closed = false;
  /** Pinned state of another build (an upgrade): retired after the first apply (see retirePredecessors). */
  private predecessors: Predecessor[];
  private hashBase = 0n;

  private constructor(
    private readonly bpf: NativeBpf,
    private readonly objects: { podEgress: BpfObjectHandle; podIngress: BpfObjectHandle },
    readonly pinRoot: string,
    /** Where this build's maps are pinned: `<pinRoot>/layout-<fingerprint>`. */
    readonly layoutRoot: string,
    private readonly limits: MapLimits,
    private readonly netns: string | undefined,
    private readonly logger: Logger | undefined,
  ) {
    const names = Object.keys(L.MAP_LAYOUTS) as MapName[];
    this.predecessors = findPredecessors(pinRoot, layoutRoot);
    this.fds = Object.fromEntries(names.map((n) => [n, objects.podEgress.mapFd(n)])) as Record<MapName, number>;
    this.cpus = bpf.numPossibleCpus();
    // Adopted pinned state may have been switched a moment ago by a process that then died.
    this.grace = this.rcuGrace();
    this.ring = new bpf.RingBuffer(this.fds.weft_events, (records) => {
      for (const r of records) this.stream.push(L.decEvent(r));
    });
    // Events are delivered while the process runs for other reasons; they do not keep it alive.
    this.ring.unref();
  }

  /** Loads the programs, creating or adopting (after a restart) the maps pinned in this build's layout directory of pinRoot. */
  static async open(opts: LibbpfDatapathOptions = {}): Promise<LibbpfDatapath> {
    const pinRoot = opts.pinRoot ?? DEFAULT_PIN_ROOT;
    const limits = opts.limits ?? DEFAULT_LIMITS;
    checkKernelVersion();
    ensureBpffs(pinRoot);
    const bpf = native();
    const paths = opts.artifacts ?? artifactPaths();
    const sizes = mapSizes(opts);
    let layoutRoot: string;
    try {
      layoutRoot = layoutDir(pinRoot, layoutFingerprint(bpf, paths, sizes));
    } catch (e) {
      throw explainNativeError('reading the map layout of the BPF objects', e as NativeError, pinRoot);
    }
    mkdirSync(layoutRoot, { recursive: true, mode: 0o700 });
    const load = (path: string) => {
      try {
        return new bpf.BpfObject(path, layoutRoot, sizes);
      } catch (e) {
        throw explainNativeError(`loading ${path}`, e as NativeError, layoutRoot);
      }
    };
    // The first object creates and pins the maps (or reuses pinned ones); the second reuses them.
    const podEgress = load(paths.objects.podEgress);
    const podIngress = load(paths.objects.podIngress);
    const dp = new LibbpfDatapath(bpf, { podEgress, podIngress }, pinRoot, layoutRoot, limits, opts.netns, opts.logger);
    opts.logger?.info(
      { layoutRoot, adoptedGeneration: dp.state().generation, predecessors: dp.predecessors.map((p) => p.dir), libbpf: bpf.libbpfVersion() },
      'datapath loaded',
    );
    dp.configure(opts);
    // An upgrade interrupted after its first apply: our maps already hold a whole generation.
    if (dp.predecessors.length && dp.state().generation > 0) await dp.retirePredecessors();
    return dp;
  }

  /**
   * The config word. The FQDN hash multiplier of adopted pins is kept: the learned addresses and the
   * pattern entries of the live slot were hashed with it. A fresh layout draws a new one.
   */
  private configure(opts: LibbpfDatapathOptions): void {
    const cur = this.bpf.mapLookup(this.fds.weft_config, L.encU32(0), L.LAYOUTS.weft_config.size);
    const old = cur ? L.decConfig(cur) : null;
    const base = old?.fqdnHashBase ? old.fqdnHashBase : randomHashBase();
    this.hashBase = base;
    const word: L.ConfigWord = {
      allowSampleRate: opts.allowSampleRate ?? 0,
      fqdnMinTtl: opts.fqdnMinTtl ?? DEFAULT_FQDN_MIN_TTL,
      fqdnGrace: opts.fqdnGrace ?? DEFAULT_FQDN_GRACE,
      fqdnHashBase: base,
      fqdnHashInv: inverseOdd(base),
    };
    this.bpf.mapUpdate(this.fds.weft_config, L.encU32(0), L.encConfig(word), BPF_ANY);
  }

  /** The kernel key of a domainNames pattern on this node. */
  patternKey(pattern: string): bigint {
    return patternHash(pattern, this.hashBase);
  }

  /** Every learned address with its patterns (kernel keys) and expiries (CLOCK_MONOTONIC ns, as process.hrtime.bigint()). */
  learned(): { addr: string; hits: L.LearnedHit[] }[] {
    this.open();
    const ks = L.LAYOUTS.weft_fqdn_addr.size;
    const fd = this.fds.weft_fqdn_learned;
    const keys = this.bpf.mapKeys(fd, ks);
    const out: { addr: string; hits: L.LearnedHit[] }[] = [];
    for (let o = 0; o < keys.length; o += ks) {
      const key = keys.subarray(o, o + ks);
      const v = this.bpf.mapLookup(fd, key, L.LAYOUTS.weft_fqdn_learned.size);
      if (v) out.push({ addr: L.decAddr16(key), hits: L.decLearned(v) });
    }
    return out;
  }

  /**
   * Puts addresses back (from the agent's store, after a reboot or into a fresh layout), merged with
   * what the kernel learned meanwhile: per pattern the later expiry wins. Already expired ones are skipped.
   */
  restoreLearned(entries: readonly { addr: string; pattern: bigint; expiresNs: bigint }[], nowNs = process.hrtime.bigint()): number {
    this.open();
    const fd = this.fds.weft_fqdn_learned;
    let written = 0;
    const byAddr = new Map<string, { pattern: bigint; expiresNs: bigint }[]>();
    for (const e of entries) {
      if (e.expiresNs <= nowNs) continue;
      const list = byAddr.get(e.addr);
      if (list) list.push(e);
      else byAddr.set(e.addr, [e]);
    }
    for (const [addr, add] of byAddr) {
      const key = L.addr16(tableAddr(addr));
      const cur = this.bpf.mapLookup(fd, key, L.LAYOUTS.weft_fqdn_learned.size);
      const hits = new Map<bigint, bigint>();
      for (const h of cur ? L.decLearned(cur) : []) if (h.expiresNs > nowNs) hits.set(h.pattern, h.expiresNs);
      for (const h of add) if ((hits.get(h.pattern) ?? 0n) < h.expiresNs) hits.set(h.pattern, h.expiresNs);
      const list = [...hits].map(([pattern, expiresNs]) => ({ pattern, expiresNs })).sort((a, b) => (a.expiresNs > b.expiresNs ? -1 : 1));
      this.bpf.mapUpdate(fd, key, L.encLearned(list), BPF_ANY);
      written++;
    }
    return written;
  }

  /** Deletes learned addresses whose every entry expired; returns how many. */
  sweepLearned(nowNs = process.hrtime.bigint()): number {
    let n = 0;
    for (const e of this.learned())
      if (e.hits.every((h) => h.expiresNs <= nowNs) && this.bpf.mapDelete(this.fds.weft_fqdn_learned, L.addr16(tableAddr(e.addr)))) n++;
    return n;
  }

  /** Where the maps of this build (these artifacts) are pinned under pinRoot; tools that read pins directly use it. */
  static layoutRoot(pinRoot: string, artifacts: ArtifactPaths = artifactPaths(), opts: LibbpfDatapathOptions = {}): string {
    return layoutDir(pinRoot, layoutFingerprint(native(), artifacts, mapSizes(opts)));
  }

  /** Removes the pinned maps of every layout (enforcement of attached programs continues until they are detached). */
  static unpin(pinRoot: string): void {
    rmSync(pinRoot, { recursive: true, force: true });
  }

  apply(tables: Tables, generation: number): Promise<void> {
    const run = this.queue.then(() => this.applyNow(tables, generation));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(tables: Tables, generation: number): Promise<void> {
    this.open();
    if (!Number.isSafeInteger(generation) || generation < 1 || generation >= 2 ** 53) {
      throw new DatapathError('DATAPATH_INVALID_TABLES', `generation ${generation} is not a positive integer`, 'generations count up from 1');
    }
    // Everything is checked and encoded before the first write: a table set that does not fit
    // or does not parse changes nothing.
    checkTables(tables, this.limits);
    const started = process.hrtime.bigint();
    const live = this.state();
    const slot = live.generation === 0 ? 0 : 1 - live.slot;
    const writes = encodeTables(tables, slot, this.hashBase);
    // Packets that read the state word before the last switch may still be looking into this
    // slot (another CPU, mid-program): wait until they are done before rewriting it.
    await this.grace;
    for (const w of writes) this.clearSlot(w);
    for (const w of writes) this.write(w);
    // The switch: one 8-byte value holding the generation and its slot.
    this.bpf.mapUpdate(this.fds.weft_state, L.encU32(0), L.encState(generation, slot), BPF_ANY);
    this.grace = this.rcuGrace();
    if (this.predecessors.length) await this.retirePredecessors();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.logger?.info(
      { generation, previous: live.generation, slot, rules: tables.rules.length, endpoints: tables.endpoints.length, ms },
      'generation applied',
    );
  }

  /** Pinned state of other builds under the pin root, waiting for this datapath's first apply to retire it. */
  get pendingPredecessors(): string[] {
    return this.predecessors.map((p) => p.dir);
  }

  /**
   * After an upgrade, once this build's maps hold a whole generation: on every interface where a
   * predecessor's program is attached, ours replaces it in one tc filter replace (same handle and
   * priority), so each packet is judged by the old program with the old maps or by ours with ours.
   * Conntrack is carried over (before the replace, and again after it for flows the old programs
   * admitted meanwhile) so replies of established connections keep passing. Then the old pins go,
   * and with the last program using them, the old maps.
   */
  private async retirePredecessors(): Promise<void> {
    const maps = pinnedMaps(this.bpf, this.predecessors);
    const theirs = new Set(maps.map((m) => m.id));
    const carry = () => maps.filter((m) => m.name === 'weft_ct').reduce((n, m) => n + carryEntries(this.bpf, m, this.fds.weft_ct), 0);
    let carried = carry();
    let replaced = 0;
    const failed: string[] = [];
    for (const ifindex of this.bpf.netLinks(this.netns)) {
      for (const point of ['ingress', 'egress'] as const) {
        const id = this.bpf.tcQuery(ifindex, point, TC_HANDLE, TC_PRIORITY, this.netns);
        if (id === 0 || !this.bpf.progMapIds(id).some((m) => theirs.has(m))) continue;
        try {
          this.tcAttach(ifindex, point, `ifindex ${ifindex}`);
          replaced++;
        } catch (e) {
          // An interface that vanished took the old program along; anything else is retried on the next apply.
          if ((e as DatapathError).code !== 'DATAPATH_ATTACH') failed.push(`${ifindex} ${point}: ${errorMessage(e)}`);
        }
      }
    }
    // Old programs already running when they were replaced may still be admitting flows.
    await this.rcuGrace();
    carried += carry();
    if (failed.length) {
      this.logger?.warn({ failed }, 'upgrade: some predecessor programs could not be replaced; keeping their pins, retrying on the next apply');
      return;
    }
    for (const p of this.predecessors) removePredecessor(p);
    this.logger?.info({ replaced, carried, removed: this.predecessors.map((p) => p.dir) }, 'upgrade: predecessor programs replaced and their pins removed');
    this.predecessors = [];
  }

  private state(): { generation: number; slot: number } {
    const v = this.bpf.mapLookup(this.fds.weft_state, L.encU32(0), L.LAYOUTS.weft_state.size);
    return v ? L.decState(v) : { generation: 0, slot: 0 };
  }

  /**
   * Settles when no packet still judges with a state word read before now. The slot a switch made
   * inactive is rewritten by the next apply, and a packet on another CPU may be mid-judgment in it.
   */
  private rcuGrace(): Promise<void> {
    return this.bpf.synchronizeRcu().catch((e: NativeError) => {
      // nohz_full kernels refuse MEMBARRIER_CMD_GLOBAL (EINVAL). A program run takes microseconds,
      // so a pause many orders longer covers it in practice (not a proof, hence the syscall first).
      this.logger?.warn({ err: e.message }, 'no RCU grace period from membarrier; pausing 50 ms before reusing a slot');
      return new Promise<void>((r) => setTimeout(r, 50));
    });
  }

  private clearSlot(w: TableWrite): void {
    const size = L.LAYOUTS[w.keyStruct].size;
    const fd = this.fds[w.map];
    const all = this.bpf.mapKeys(fd, size);
    const stale: Buffer[] = [];
    for (let o = 0; o < all.length; o += size) {
      const key = all.subarray(o, o + size);
      if (L.slotOf(w.keyStruct, key) === w.slot) stale.push(key);
    }
    if (w.batch && stale.length) this.bpf.mapDeleteBatch(fd, Buffer.concat(stale), stale.length);
    else for (const key of stale) this.bpf.mapDelete(fd, key);
  }

  private write(w: TableWrite): void {
    const fd = this.fds[w.map];
    if (w.batch && w.entries.length > 0) {
      this.bpf.mapUpdateBatch(fd, Buffer.concat(w.entries.map((e) => e[0])), Buffer.concat(w.entries.map((e) => e[1])), w.entries.length, BPF_ANY);
      return;
    }
    for (const [k, v] of w.entries) this.bpf.mapUpdate(fd, k, v, BPF_ANY);
  }

  async appliedGeneration(): Promise<number> {
    this.open();
    return this.state().generation;
  }

  async attach(endpoint: Endpoint): Promise<void> {
    this.open();
    for (const point of ['ingress', 'egress'] as const) this.tcAttach(endpoint.ifindex, point, endpoint.pod);
    this.logger?.debug({ pod: endpoint.pod, ifindex: endpoint.ifindex }, 'attached');
  }

  /** Our program for a tc hook (ingress of the host-side veth is the pod's egress), replacing what is there. */
  private tcAttach(ifindex: number, point: 'ingress' | 'egress', pod: string): void {
    const prog =
      point === 'ingress' ? this.objects.podEgress.progFd(BPF_PROGRAMS.podEgress.program) : this.objects.podIngress.progFd(BPF_PROGRAMS.podIngress.program);
    try {
      this.bpf.tcAttach(ifindex, point, prog, TC_HANDLE, TC_PRIORITY, this.netns);
    } catch (e) {
      const err = e as NativeError;
      if (err.errno === errno.ENODEV)
        throw new DatapathError(
          'DATAPATH_ATTACH',
          `attach to ${pod} (ifindex ${ifindex}): no such interface`,
          'the pod was deleted or the ifindex is from another network namespace',
        );
      throw explainNativeError(`attach tc ${point} on ifindex ${ifindex} (${pod})`, err, this.layoutRoot);
    }
  }

  async detach(endpoint: Endpoint): Promise<void> {
    for (const point of ['ingress', 'egress'] as const) this.bpf.tcDetach(endpoint.ifindex, point, TC_HANDLE, TC_PRIORITY, this.netns);
    this.logger?.debug({ pod: endpoint.pod, ifindex: endpoint.ifindex }, 'detached');
  }

  /** Whether our programs are attached to the interface (both directions). */
  attached(ifindex: number): boolean {
    return (['ingress', 'egress'] as const).every((p) => this.bpf.tcQuery(ifindex, p, TC_HANDLE, TC_PRIORITY, this.netns) !== 0);
  }

  events(): AsyncIterable<VerdictEvent> {
    return this.stream.subscribe();
  }

  /** Deliver the events waiting in the ring buffer now (tests; normally the poll does it). */
  drainEvents(): void {
    this.ring.drain();
  }

  async counters(): Promise<Counters> {
    this.open();
    const fd = this.fds.weft_counters;
    const ks = L.LAYOUTS.weft_counter_key.size;
    const all = this.bpf.mapKeys(fd, ks);
    const out: Counters = { byRule: [], byEndpoint: [], eventsLost: 0n, drops: noDrops() };
    const stride = Math.ceil(L.LAYOUTS.weft_counter_value.size / 8) * 8;
    for (let o = 0; o < all.length; o += ks) {
      const key = all.subarray(o, o + ks);
      const v = this.bpf.mapLookup(fd, key, stride * this.cpus);
      if (!v) continue;
      const k = L.decCounterKey(key);
      const sum = L.decCounterValues(v, this.cpus);
      if (k.kind === L.COUNT_EVENTS_LOST) out.eventsLost += sum.packets;
      else if (k.kind === L.COUNT_RULE) out.byRule.push({ ruleId: k.id, verdict: k.verdict, ...sum });
      else if (k.kind === L.COUNT_ENDPOINT) out.byEndpoint.push({ endpointId: k.id, verdict: k.verdict, ...sum });
    }
    for (const [reason, index] of Object.entries(DROP_REASONS) as [DropReason, number][]) {
      const v = this.bpf.mapLookup(this.fds.weft_drops, L.encU32(index), stride * this.cpus);
      if (v) out.drops[reason] = L.decCounterValues(v, this.cpus);
    }
    return out;
  }

  /**
   * BPF_PROG_TEST_RUN: one packet (an Ethernet frame) through the program of the pod's
   * `direction`, against the live maps. Returns whether it passed and the mean ns per run.
   */
  testRun(direction: 'ingress' | 'egress', frame: Buffer, repeat = 1): { pass: boolean; retval: number; durationNs: number } {
    this.open();
    const fd =
      direction === 'egress' ? this.objects.podEgress.progFd(BPF_PROGRAMS.podEgress.program) : this.objects.podIngress.progFd(BPF_PROGRAMS.podIngress.program);
    const r = this.bpf.testRun(fd, frame, repeat);
    return { pass: r.retval === 0, retval: r.retval, durationNs: r.durationNs };
  }

  /** Forget every conntrack entry (tests and benchmarks that must judge each packet afresh). */
  flushConntrack(): void {
    const ks = L.LAYOUTS.weft_ct_key.size;
    const all = this.bpf.mapKeys(this.fds.weft_ct, ks);
    if (all.length) this.bpf.mapDeleteBatch(this.fds.weft_ct, all, all.length / ks);
  }

  /** Releases this process's handles. Pinned maps and attached programs stay: enforcement continues. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ring.close();
    this.stream.close();
    this.objects.podEgress.close();
    this.objects.podIngress.close();
  }

  private open(): void {
    if (this.closed) throw new DatapathError('DATAPATH_CLOSED', 'the datapath is closed', 'open a new one: LibbpfDatapath.open()');
  }
}

/**
 * The tables as map entries of one slot. Full-length keys (host addresses; rules of one protocol on
 * one port) go to hash maps, whose lookup cost does not grow with their size; a full-length key is
 * the longest possible match, so the programs try the hash first and the LPM trie only on a miss.
 */
export function encodeTables(t: Tables, slot: number, hashBase = 1n): TableWrite[] {
  const endpoints: [Buffer, Buffer][] = [];
  for (const e of t.endpoints)
    for (const ip of e.ips) endpoints.push([L.encEndpointKey(slot, tableAddr(ip)), L.encEndpointValue(e.endpointId, e.ingressSet, e.egressSet)]);
  const hosts: [Buffer, Buffer][] = [];
  const cidrs: [Buffer, Buffer][] = [];
  for (const c of t.ipcache) {
    const p = tablePrefix(c.cidr);
    (p.len === p.bytes.length * 8 ? hosts : cidrs).push([L.encIpcacheKey(slot, p), L.encU32(c.identity)]);
  }
  const exact: [Buffer, Buffer][] = [];
  const ranges: [Buffer, Buffer][] = [];
  for (const r of t.rules) {
    // A protocol without ports is looked up with port 0: its any-port rule is the exact key of port 0.
    if (r.proto !== null && (r.portBits === 16 || (!hasPorts(r.proto) && r.portBits === 0))) {
      exact.push([L.encRuleKey(slot, { ...r, port: hasPorts(r.proto) ? r.port : 0, portBits: 16 }), L.encVerdict(r.value)]);
    } else ranges.push([L.encRuleKey(slot, r), L.encVerdict(r.value)]);
  }
  return [
    { map: 'weft_endpoints', keyStruct: 'weft_endpoint_key', slot, batch: true, entries: endpoints },
    { map: 'weft_ipcache_hosts', keyStruct: 'weft_ipcache_key', slot, batch: true, entries: hosts },
    { map: 'weft_ipcache', keyStruct: 'weft_ipcache_key', slot, batch: false, entries: cidrs },
    { map: 'weft_sets', keyStruct: 'weft_set_key', slot, batch: true, entries: t.sets.map((s) => [L.encSetKey(slot, s.id), L.encVerdict(s.default)]) },
    { map: 'weft_rules_exact', keyStruct: 'weft_rule_key', slot, batch: true, entries: exact },
    { map: 'weft_rules', keyStruct: 'weft_rule_key', slot, batch: false, entries: ranges },
    {
      map: 'weft_fqdn_names',
      keyStruct: 'weft_fqdn_name_key',
      slot,
      batch: true,
      entries: (t.fqdn ?? []).map((p, index) => [L.encFqdnNameKey(slot, patternHash(p, hashBase)), L.encU32(index)]),
    },
  ];
}
