// The traffic tools of the datapath benchmark, run in the pods' network namespaces: iperf3 for
// TCP throughput, sockperf ping-pong for UDP latency.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { Topology } from '../../datapath/testing/index.ts';
import { IPERF_PORT, SOCKPERF_PORT } from './rules.ts';

export const inNs = (netns: string, cmd: string[], input?: string) =>
  execFileSync('ip', ['netns', 'exec', netns, ...cmd], { encoding: 'utf8', input, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });

/** TCP Gbit/s received by the server (pods[1]) from the client (pods[0]). */
export function iperf(topo: Topology, streams: number, seconds: number): number {
  const [c, s] = topo.pods;
  const out = JSON.parse(inNs(c.netns, ['iperf3', '-c', s.ip, '-p', String(IPERF_PORT), '-t', String(seconds), '-P', String(streams), '-J'])) as {
    end: { sum_received: { bits_per_second: number } };
  };
  return out.end.sum_received.bits_per_second / 1e9;
}

/** sockperf ping-pong: its percentiles are of one-way latency (RTT / 2), in µs. */
export function sockperf(topo: Topology, seconds: number): { p50: number; p99: number } {
  const [c, s] = topo.pods;
  const out = inNs(c.netns, ['sockperf', 'pp', '-i', s.ip, '-p', String(SOCKPERF_PORT), '-t', String(seconds)]);
  const pct = (p: string) => Number(new RegExp(`percentile ${p} =\\s+([\\d.]+)`).exec(out)?.[1] ?? NaN);
  return { p50: pct('50.000'), p99: pct('99.000') };
}

export interface Sample {
  run: number;
  gbps4: number;
  gbps1: number;
  p50: number;
  p99: number;
}

export function sample(topo: Topology, run: number, seconds: number): Sample {
  return { run, gbps4: iperf(topo, 4, seconds), gbps1: iperf(topo, 1, seconds), ...sockperf(topo, seconds) };
}

/** The iperf3 and sockperf servers in the server pod. */
export function servers(topo: Topology): ChildProcess[] {
  const s = topo.pods[1];
  return [
    spawn('ip', ['netns', 'exec', s.netns, 'iperf3', '-s', '-p', String(IPERF_PORT)], { stdio: 'ignore' }),
    spawn('ip', ['netns', 'exec', s.netns, 'sockperf', 'sr', '-i', s.ip, '-p', String(SOCKPERF_PORT)], { stdio: 'ignore' }),
  ];
}
