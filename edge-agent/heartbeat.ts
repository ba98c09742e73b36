// What a heartbeat says about the node: readiness, the local service checks behind it, load, the
// applied generation, the tunnel, and whether packets are filtered in the kernel (and why not). The link adds its own stats (reconnects, outbox depth and losses).
import { availableParallelism, loadavg } from 'node:os';
import type { HeartbeatMessage, NotEnforcing, ServiceCheck } from '../protocol/index.ts';
import type { TunnelStatus } from './status-types.ts';

export interface HeartbeatFacts {
  enforcing: boolean;
  appliedGeneration: number;
  /** Why packets are not filtered in the kernel: the kernel datapath cannot load, or the in-memory one was asked for. Null: they are. */
  notEnforcing: NotEnforcing | null;
  storeWritable: boolean | null;
  /** null: no k3s on this node. */
  kubeSynced: boolean | null;
  /** null: no tunnel configured. */
  tunnel: TunnelStatus | null;
  podsAttached: number;
  /** 1-minute load average and CPU count (injected by tests). */
  load?: { avg1: number; cpus: number };
}

/** A handshake older than this means the tunnel is down (WireGuard re-handshakes every 2 minutes). */
export const TUNNEL_STALE_S = 180;

export function heartbeatBody(f: HeartbeatFacts): Omit<HeartbeatMessage, 'link' | 'v' | 'at'> {
  const checks: ServiceCheck[] = [
    { name: 'datapath', ok: !f.notEnforcing, detail: f.notEnforcing ? `not enforcing: ${f.notEnforcing.reason} (${f.notEnforcing.code})` : 'kernel' },
    { name: 'store', ok: f.storeWritable === true, detail: f.storeWritable === null ? 'unavailable' : f.storeWritable ? 'writable' : 'read-only' },
  ];
  if (f.kubeSynced !== null) checks.push({ name: 'k3s', ok: f.kubeSynced, detail: f.kubeSynced ? 'synced' : 'not synced' });
  if (f.tunnel) {
    const age = f.tunnel.handshakeAgeS;
    checks.push({ name: 'tunnel', ok: age !== null && age < TUNNEL_STALE_S, detail: age === null ? 'no handshake' : `handshake ${age} s ago` });
  }
  const load = f.load ?? { avg1: loadavg()[0], cpus: availableParallelism() };
  return {
    // Ready: it enforces in the kernel and knows its pods. The tunnel and the store do not gate it: enforcement
    // needs neither, and their checks say what is wrong.
    nodeReady: f.enforcing && !f.notEnforcing && f.kubeSynced !== false,
    enforcing: f.enforcing,
    kernelEnforcing: !f.notEnforcing,
    ...(f.notEnforcing ? { notEnforcing: f.notEnforcing } : {}),
    appliedGeneration: f.appliedGeneration,
    checks,
    load: Math.min(1, Math.max(0, load.avg1 / Math.max(1, load.cpus))),
    podsAttached: f.podsAttached,
    ...(f.tunnel ? { tunnel: { handshakeAgeS: f.tunnel.handshakeAgeS } } : {}),
  };
}
