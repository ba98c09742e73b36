// Which path a linked site's traffic takes: direct (WireGuard to the peer), relayed (WireGuard to the
// hub, which forwards to the peer) or down. Pure: the agent feeds it what it reads from the device
// once a second and acts on the answer (moving the peer's mapped block between the peer and the hub).
//
// Why received bytes and not the handshake age: WireGuard re-handshakes only every 2 minutes, so a
// fresh handshake says nothing about the last seconds. Both ends send a keepalive every
// MESH_KEEPALIVE_S on the direct path, so a direct path that carries nothing for `staleMs` is broken.
//
// The bounds (docs/tunnel.md "Site to site"):
// - traffic starts relayed (the hub path exists from the first packet) and moves to direct once the
//   direct path has received within `staleMs` and has a handshake younger than REJECT_AFTER (180 s);
// - a direct path that receives nothing for `staleMs` (default 3.5 s: three keepalives missed) falls
//   back to the relay at once; WireGuard keeps trying the direct path (keepalives trigger handshake
//   initiations every 5 s), and the path moves back when bytes arrive again;
// - with neither path alive (no direct bytes, no live hub handshake) the link is down.
import type { PathState } from '../protocol/index.ts';

export const MESH_KEEPALIVE_S = 1;

export interface PathConfig {
  /** No bytes received on the direct path for this long: it is not carrying traffic. */
  staleMs: number;
  /** A handshake older than this is a dead session (WireGuard's REJECT_AFTER_TIME). */
  sessionMs: number;
}

export const PATH_DEFAULTS: PathConfig = { staleMs: 3_500, sessionMs: 180_000 };

export interface PathObservation {
  nowMs: number;
  /** Bytes received from the peer on the direct path (the device's counter). */
  rxBytes: number;
  /** Latest handshake with the peer, epoch ms; null: none yet. */
  lastHandshakeMs: number | null;
  /** The hub tunnel is alive (a handshake within sessionMs), so the relay can carry traffic. */
  relayUp: boolean;
}

export interface PathStatus {
  state: PathState;
  /** When `state` was entered. */
  sinceMs: number;
  /** The rx counter last seen and when it last went up. */
  rxBytes: number;
  rxChangedMs: number | null;
}

export function initialPath(nowMs: number): PathStatus {
  return { state: 'down', sinceMs: nowMs, rxBytes: 0, rxChangedMs: null };
}

/** The next status from the previous one and what the device shows now. */
export function stepPath(prev: PathStatus, o: PathObservation, cfg: PathConfig = PATH_DEFAULTS): PathStatus {
  // Any change counts, a drop too: a restarted daemon starts its counters again (its session is new,
  // so the handshake check below still decides).
  const rxChangedMs = o.rxBytes !== prev.rxBytes ? o.nowMs : prev.rxChangedMs;
  const sessionLive = o.lastHandshakeMs !== null && o.nowMs - o.lastHandshakeMs < cfg.sessionMs;
  const directAlive = sessionLive && rxChangedMs !== null && o.nowMs - rxChangedMs <= cfg.staleMs;
  const state: PathState = directAlive ? 'direct' : o.relayUp ? 'relayed' : 'down';
  return { state, sinceMs: state === prev.state ? prev.sinceMs : o.nowMs, rxBytes: o.rxBytes, rxChangedMs };
}
