// Which hub node carries the broker's address in a site's tunnel, as a pure function of the probes:
// every node is a peer with its own overlay address, probed each round; the broker's address is routed
// to one of them (the active node). When the active node misses `missesToMove` probes in a row and
// another answered its last probe, the address moves there (the next answering node after the active
// one in the enrolled order, so sites spread over the nodes that are left the same way each time).
// A node that comes back does not take the address back: moving costs every site a reconnect.

export interface FailoverState {
  /** The active node's key (its WireGuard public key). */
  active: string;
  /** Probes missed in a row, per node. */
  misses: Record<string, number>;
}

export interface FailoverStep {
  state: FailoverState;
  /** Present when the broker's address moves. */
  move?: { from: string; to: string };
}

export function initialFailover(active: string): FailoverState {
  return { active, misses: {} };
}

/** One probe round: `answered[key]` for every node (in `order`, the enrolled order). */
export function stepFailover(prev: FailoverState, answered: Record<string, boolean>, order: readonly string[], missesToMove: number): FailoverStep {
  const misses: Record<string, number> = {};
  for (const key of order) misses[key] = answered[key] ? 0 : (prev.misses[key] ?? 0) + 1;
  const state = { active: prev.active, misses };
  if ((misses[prev.active] ?? 0) < missesToMove) return { state };
  const at = order.indexOf(prev.active);
  for (let i = 1; i <= order.length; i++) {
    const key = order[(at + i + order.length) % order.length];
    if (key !== prev.active && misses[key] === 0) return { state: { ...state, active: key }, move: { from: prev.active, to: key } };
  }
  return { state };
}
