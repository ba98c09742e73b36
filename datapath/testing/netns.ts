// A node in a network namespace with a bridge, and pods in their own namespaces joined to it by
// veth pairs: the shape of a k3s node, isolated from the host's routes and firewall. Names are
// unique per run, and destroy() removes everything (also after failures).
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
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

export class Topology {
  readonly pods: Pod[] = [];
  private readonly probes = new Map<string, Probe>();

  private constructor(
    readonly id: string,
    readonly node: string,
  ) {}

  /** /run/netns path of the node namespace (LibbpfDatapathOptions.netns). */
  get nodeNetnsPath(): string {
    return `/run/netns/${this.node}`;
  }

  /** Pods get 10.<subnet>.0.<i+2>/24 and fd<subnet>::<i+2>/64; subnets only exist inside the namespaces. */
  static create(podNames: string[], subnet = 77): Topology {
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
        const addr = `10.${subnet}.0.${i + 2}`;
        const addr6 = `fd${subnet}::${i + 2}`;
        ip('-n', netns, 'link', 'set', 'lo', 'up');
        ip('-n', netns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
        ip('-n', netns, 'addr', 'add', `${addr6}/64`, 'dev', 'eth0', 'nodad');
        ip('-n', netns, 'link', 'set', 'eth0', 'up');
        const ifindex = (JSON.parse(ip('-n', t.node, '-j', 'link', 'show', hostIf)) as { ifindex: number }[])[0].ifindex;
        t.pods.push({ name, netns, hostIf, ifindex, ip: addr, ip6: addr6 });
      });
    } catch (e) {
      t.destroy();
      throw e;
    }
    return t;
  }

  pod(name: string): Pod {
    const p = this.pods.find((x) => x.name === name);
    if (!p) throw new Error(`no pod ${name}`);
    return p;
  }

  /** A long-lived traffic process in the pod's namespace. */
  probe(name: string): Probe {
    let p = this.probes.get(name);
    if (!p) this.probes.set(name, (p = new Probe(this.pod(name).netns)));
    return p;
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
    for (const p of this.pods) execFileSync('ip', ['netns', 'del', p.netns], { stdio: 'ignore' });
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

  listen(proto: 'tcp' | 'udp', port: number): Promise<ProbeAnswer> {
    return this.ask({ op: 'listen', proto, port });
  }

  tcp(host: string, port: number, timeoutMs = 3000): Promise<ProbeAnswer> {
    return this.ask({ op: 'tcp', host, port, timeoutMs });
  }

  /** `connect`: a connected socket, which learns of an ICMP error from the peer (error ECONNREFUSED). */
  udp(host: string, port: number, timeoutMs = 3000, connect = false): Promise<ProbeAnswer> {
    return this.ask({ op: 'udp', host, port, timeoutMs, connect });
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
