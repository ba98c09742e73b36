// Connectivity between namespaces, with outcomes a policy test can assert on: a connection is
// connected (and echoed), refused, timed out or unreachable. Probes run in one long-lived
// probe agent per source namespace, started on first use and killed at harness cleanup.
import { fileURLToPath } from 'node:url';
import { HarnessError } from './errors.ts';
import type { Harness } from './harness.ts';
import type { NsProcess } from './ns-process.ts';

const ECHO_SERVER = fileURLToPath(new URL('./echo-server.mjs', import.meta.url));
const PROBE_AGENT = fileURLToPath(new URL('./probe-agent.mjs', import.meta.url));

export type Proto = 'tcp' | 'udp';
export type Outcome = 'connected' | 'refused' | 'timeout' | 'unreachable' | 'reset' | 'error';

export interface ProbeResult {
  outcome: Outcome;
  /** Where it ended: the TCP handshake, or waiting for the echo. */
  stage: 'connect' | 'echo';
  ms: number;
  error?: string;
}

export interface ProbeOptions {
  proto?: Proto;
  host: string;
  port: number;
  /** Default 2000 ms. */
  timeoutMs?: number;
  /** TCP only: succeed on connect without waiting for an echo (for servers that are not echo servers). */
  connectOnly?: boolean;
}

interface Agent {
  proc: NsProcess;
  pending: Map<number, (r: ProbeResult) => void>;
  nextId: number;
}

const agents = new WeakMap<Harness, Map<string, Promise<Agent>>>();

async function startAgent(h: Harness, ns: string): Promise<Agent> {
  const proc = h.spawn(ns, [process.execPath, PROBE_AGENT], { name: `probe-${ns}`, stdin: true });
  const agent: Agent = { proc, pending: new Map(), nextId: 1 };
  proc.onStdoutLine((line) => {
    if (!line.startsWith('{')) return;
    const { id, ...result } = JSON.parse(line) as ProbeResult & { id: number };
    agent.pending.get(id)?.(result);
    agent.pending.delete(id);
  });
  await proc.waitForOutput(/^READY$/m, 20_000);
  return agent;
}

function agentFor(h: Harness, ns: string): Promise<Agent> {
  let byNs = agents.get(h);
  if (!byNs) agents.set(h, (byNs = new Map()));
  let agent = byNs.get(ns);
  if (!agent) byNs.set(ns, (agent = startAgent(h, ns)));
  return agent;
}

/** One connection attempt from namespace `from` to host:port. */
export async function probe(h: Harness, from: string, o: ProbeOptions): Promise<ProbeResult> {
  const agent = await agentFor(h, from);
  if (!agent.proc.running) throw new HarnessError('HARNESS_COMMAND_FAILED', `the probe agent in ${from} is gone:\n${agent.proc.logs().slice(-2000)}`);
  const id = agent.nextId++;
  const timeoutMs = o.timeoutMs ?? 2000;
  return new Promise((resolve) => {
    agent.pending.set(id, resolve);
    agent.proc.write(`${JSON.stringify({ id, proto: o.proto ?? 'tcp', host: o.host, port: o.port, timeoutMs, mode: o.connectOnly ? 'connect' : 'echo' })}\n`);
  });
}

/** Probes until the outcome is `want` (default: connected) or the deadline passes; returns the last result. */
export async function probeUntil(h: Harness, from: string, o: ProbeOptions, want: Outcome = 'connected', deadlineMs = 10_000): Promise<ProbeResult> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const r = await probe(h, from, { ...o, timeoutMs: Math.min(o.timeoutMs ?? 1000, Math.max(200, end - Date.now())) });
    if (r.outcome === want || Date.now() >= end) return r;
    if (r.ms < 200) await new Promise((res) => setTimeout(res, 200 - r.ms));
  }
}

/** Waits until a TCP port accepts connections; throws HARNESS_TIMEOUT with the last outcome. */
export async function waitForPort(h: Harness, from: string, host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const r = await probeUntil(h, from, { host, port, connectOnly: true, timeoutMs: 1000 }, 'connected', timeoutMs);
  if (r.outcome !== 'connected')
    throw new HarnessError('HARNESS_TIMEOUT', `${host}:${port} did not accept connections from ${from} within ${timeoutMs} ms (last: ${r.outcome})`);
}

export interface EchoServer {
  ns: string;
  tcpPort: number;
  udpPort: number;
  process: NsProcess;
}

/** Starts the TCP+UDP echo server in `ns` (ports 0: any free port, reported back). */
export async function startEchoServer(h: Harness, ns: string, o: { host?: string; tcpPort?: number; udpPort?: number } = {}): Promise<EchoServer> {
  const proc = h.spawn(ns, [process.execPath, ECHO_SERVER, '--host', o.host ?? '::', '--tcp', String(o.tcpPort ?? 0), '--udp', String(o.udpPort ?? 0)], {
    name: `echo-${ns}`,
  });
  const m = await proc.waitForOutput(/ECHO tcp=(-?\d+) udp=(-?\d+)/, 20_000);
  return { ns, tcpPort: Number(m[1]), udpPort: Number(m[2]), process: proc };
}
