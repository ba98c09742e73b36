// A node in a network namespace with a bridge, and pods in their own namespaces joined to it by
// veth pairs: the shape of a k3s node, isolated from the host's routes and firewall. Names are
// unique per run, and destroy() removes everything (also after failures).
import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface Pod {
  name: string;
  netns: string;
  /** Host-side veth inside the node namespace. */
  hostIf: string;
  ifindex: number;
  ip: string;
  ip6: string;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** The namespace addExternal() makes: hosts outside the cluster, as a probe or SCTP name. */
export const EXTERNAL = 'external';

export class Topology {
  readonly pods: Pod[] = [];
  private readonly probes = new Map<string, Probe>();
  private readonly sctpListeners = new Map<string, SctpListener>();
  private external: string | undefined;
  private podNet = '';

  private constructor(
    readonly id: string,
    readonly node: string,
  ) {}

  /** /run/netns path of the node namespace (LibbpfDatapathOptions.netns). */
  get nodeNetnsPath(): string {
    return `/run/netns/${this.node}`;
  }

  /** Pods get <v4Prefix>.<i+2>/24 (10.<subnet>.0 unless given) and fd<subnet>::<i+2>/64; subnets only exist inside the namespaces. */
  static create(podNames: string[], subnet = 77, v4Prefix = `10.${subnet}.0`): Topology {
    const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
    const t = new Topology(id, `wdp-${id}-node`);
    try {
      ip('netns', 'add', t.node);
      ip('-n', t.node, 'link', 'set', 'lo', 'up');
      ip('-n', t.node, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', t.node, 'link', 'set', 'br0', 'up');
      podNames.forEach((name, i) => {
        const netns = `wdp-${id}-p${i}`;
        const hostIf = `veth${i}`;
        ip('netns', 'add', netns);
        ip('-n', t.node, 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
        ip('-n', t.node, 'link', 'set', hostIf, 'master', 'br0', 'up');
        const addr = `${v4Prefix}.${i + 2}`;
        const addr6 = `fd${subnet}::${i + 2}`;
        ip('-n', netns, 'link', 'set', 'lo', 'up');
        ip('-n', netns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
        ip('-n', netns, 'addr', 'add', `${addr6}/64`, 'dev', 'eth0', 'nodad');
        ip('-n', netns, 'link', 'set', 'eth0', 'up');
        const ifindex = (JSON.parse(ip('-n', t.node, '-j', 'link', 'show', hostIf)) as { ifindex: number }[])[0].ifindex;
        t.pods.push({ name, netns, hostIf, ifindex, ip: addr, ip6: addr6 });
      });
      t.podNet = `${v4Prefix}.0/24`;
    } catch (e) {
      t.destroy();
      throw e;
    }
    return t;
  }

  /**
   * Hosts outside the cluster: one namespace on the node's bridge holding every address (/32), with no
   * datapath program of its own; pods reach any address through it (a default route on their link).
   */
  addExternal(addresses: readonly string[]): void {
    const netns = `wdp-${this.id}-ext`;
    ip('netns', 'add', netns);
    this.external = netns;
    ip('-n', this.node, 'link', 'add', 'vext', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
    ip('-n', this.node, 'link', 'set', 'vext', 'master', 'br0', 'up');
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    for (const a of addresses) ip('-n', netns, 'addr', 'add', `${a}/32`, 'dev', 'eth0');
    ip('-n', netns, 'link', 'set', 'eth0', 'up');
    ip('-n', netns, 'route', 'add', this.podNet, 'dev', 'eth0');
    for (const p of this.pods) ip('-n', p.netns, 'route', 'add', 'default', 'dev', 'eth0');
  }

  private netnsOf(name: string): string {
    if (name !== EXTERNAL) return this.pod(name).netns;
    if (!this.external) throw new Error('no external namespace: call addExternal() first');
    return this.external;
  }

  pod(name: string): Pod {
    const p = this.pods.find((x) => x.name === name);
    if (!p) throw new Error(`no pod ${name}`);
    return p;
  }

  /** A long-lived traffic process in the pod's namespace (or EXTERNAL's). */
  probe(name: string): Probe {
    let p = this.probes.get(name);
    if (!p) this.probes.set(name, (p = new Probe(this.netnsOf(name))));
    return p;
  }

  /** The SCTP INITs arriving in the pod's namespace (or EXTERNAL's). */
  async sctp(name: string): Promise<SctpListener> {
    let l = this.sctpListeners.get(name);
    if (!l) {
      l = new SctpListener(this.netnsOf(name));
      this.sctpListeners.set(name, l);
      await l.ready;
    }
    return l;
  }

  /** One SCTP INIT from the pod's namespace (or EXTERNAL's, from one of its addresses). */
  sendSctp(from: string, dst: string, sport: number, dport: number, src = '-'): Promise<void> {
    const args = ['netns', 'exec', this.netnsOf(from), 'python3', '-S', join(here, 'sctp.py'), 'send', src, dst, String(sport), String(dport)];
    return new Promise((resolve, reject) => execFile('ip', args, (e) => (e ? reject(e) : resolve())));
  }

  /** ICMP echo from one pod to an address; true when the reply came back. */
  ping(from: string, to: string, ident: number, timeoutS = 1): boolean {
    try {
      execFileSync('ip', ['netns', 'exec', this.pod(from).netns, 'python3', '-S', join(here, 'ping.py'), to, String(ident), String(timeoutS)], {
        stdio: 'ignore',
      });
      return true;
    } catch {
      return false;
    }
  }

  destroy(): void {
    for (const p of this.probes.values()) p.close();
    for (const l of this.sctpListeners.values()) l.close();
    for (const ns of [...this.pods.map((p) => p.netns), ...(this.external ? [this.external] : [])])
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    try {
      execFileSync('ip', ['netns', 'del', this.node], { stdio: 'ignore' });
    } catch {
      // already gone (creation failed early)
    }
  }
}

export interface ProbeAnswer {
  ok: boolean;
  error?: string;
  sport?: number;
  sent?: number;
  received?: Record<string, number>;
}

export class Probe {
  private readonly child: ChildProcessWithoutNullStreams;
  private next = 1;
  private readonly waiting = new Map<number, (a: ProbeAnswer) => void>();

  constructor(netns: string) {
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, join(here, 'probe.mjs')], { stdio: 'pipe' });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const a = JSON.parse(line) as ProbeAnswer & { id: number };
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
  }

  private ask(cmd: Record<string, unknown>): Promise<ProbeAnswer> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(JSON.stringify({ ...cmd, id }) + '\n');
    });
  }

  /** `host`: the one local address to serve on (a UDP echo then answers from it), else all. */
  listen(proto: 'tcp' | 'udp', port: number, host?: string): Promise<ProbeAnswer> {
    return this.ask({ op: 'listen', proto, port, host });
  }

  /** `from`: the local address to connect from (a namespace holding several). */
  tcp(host: string, port: number, timeoutMs = 3000, from?: string): Promise<ProbeAnswer> {
    return this.ask({ op: 'tcp', host, port, timeoutMs, from });
  }

  /** `connect`: a connected socket, which learns of an ICMP error from the peer (error ECONNREFUSED). */
  udp(host: string, port: number, timeoutMs = 3000, connect = false, from?: string): Promise<ProbeAnswer> {
    return this.ask({ op: 'udp', host, port, timeoutMs, connect, from });
  }

  /** `gapMs` paces the flows (each one takes two conntrack entries when allowed). */
  blast(host: string, port: number, ms: number, gapMs = 0): Promise<ProbeAnswer> {
    return this.ask({ op: 'blast', host, port, ms, gapMs });
  }

  /** Ends a running blast (its own answer then reports how many it sent). */
  stop(): Promise<ProbeAnswer> {
    return this.ask({ op: 'stop' });
  }

  /** Datagrams the pod's UDP echo servers received so far, by source address. */
  async received(): Promise<Record<string, number>> {
    return (await this.ask({ op: 'count' })).received ?? {};
  }

  /** A TCP server whose connections stay silent until push(). */
  pushServer(port: number): Promise<ProbeAnswer> {
    return this.ask({ op: 'pushServer', port });
  }

  push(): Promise<ProbeAnswer> {
    return this.ask({ op: 'push' });
  }

  /** A long-lived connection to a push server; heard() tells whether a push arrived since the last heard(). */
  hold(host: string, port: number, timeoutMs = 3000): Promise<ProbeAnswer> {
    return this.ask({ op: 'hold', host, port, timeoutMs });
  }

  heard(timeoutMs = 3000): Promise<ProbeAnswer> {
    return this.ask({ op: 'heard', timeoutMs });
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

export interface SctpInit {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** sctp.py listen in a namespace: every INIT that reaches it, and waiting for one. */
export class SctpListener {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly seen: SctpInit[] = [];
  private readonly waiting = new Set<() => void>();
  readonly ready: Promise<void>;

  constructor(netns: string) {
    this.child = spawn('ip', ['netns', 'exec', netns, 'python3', '-S', join(here, 'sctp.py'), 'listen'], { stdio: 'pipe' });
    let started: () => void = () => {};
    this.ready = new Promise((resolve) => (started = resolve));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as SctpInit | { ready: true };
      if ('ready' in m) return started();
      this.seen.push(m);
      for (const w of this.waiting) w();
    });
  }

  /** Whether an INIT matching `want` arrived within timeoutMs. */
  received(want: SctpInit, timeoutMs: number): Promise<boolean> {
    const match = () => this.seen.some((s) => s.src === want.src && s.dst === want.dst && s.sport === want.sport && s.dport === want.dport);
    if (match()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!match()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.waiting.delete(check);
        resolve(ok);
      };
      this.waiting.add(check);
    });
  }

  close(): void {
    this.child.kill();
  }
}
