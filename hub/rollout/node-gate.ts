// When a multi-node site has applied a generation: a pure function of the site's nodes, the clock and
// the grace, so every rule is a table test (node-gate.test.ts). A bundle is made once per site and every
// node applies it; the site's ack (what the rollout engine counts) is decided here from the nodes' acks:
//
// - any node rejected the generation: the site rejected it (the node and its code are the reason);
// - every node applied it, or is down and has been down for longer than the grace: the site applied it,
//   and the nodes left out are named (a node powered off does not hold a stage for ever);
// - otherwise the site waits, and says until when a down node could be left out.
//
// A node that is down for less than the grace still holds the stage: a reboot or a short cut must not
// let a rollout pass a node that will apply the bundle a minute later. When every node is down, nothing
// applied it: the site waits, as a one-device site that is down does.

/** One enrolled node as the hub knows it when it decides. */
export interface NodeFacts {
  name: string;
  /** Newest generation the node acked `applied` (or reported applied in a heartbeat). */
  appliedGeneration: number | null;
  /** The node's rejection of a generation, if it sent one. */
  rejected: { generation: number; code: string | null; reason: string | null } | null;
  /** The node's session and heartbeats say it is up. */
  up: boolean;
  /** When it went down (or was enrolled, if never heard); null while up. */
  downSince: number | null;
}

export interface NodeGateConfig {
  /** How long a down node holds a stage before it is left out. */
  downGraceMs: number;
}

/** Five minutes: longer than a reboot of a k3s node, short enough that a dead node does not stall a rollout for long. */
export const DEFAULT_NODE_DOWN_GRACE_MS = 5 * 60_000;

export type SiteNodesVerdict =
  | { kind: 'applied'; applied: string[]; excluded: string[] }
  | { kind: 'rejected'; node: string; code: string | null; reason: string }
  /** `until`: when the first waiting down node passes its grace (null: only live nodes are awaited). */
  | { kind: 'waiting'; waitingFor: string[]; until: number | null };

export function siteNodesVerdict(generation: number, nodes: readonly NodeFacts[], now: number, cfg: NodeGateConfig): SiteNodesVerdict {
  const rejected = nodes.find((n) => n.rejected !== null && n.rejected.generation === generation);
  if (rejected?.rejected) {
    const r = rejected.rejected;
    return { kind: 'rejected', node: rejected.name, code: r.code, reason: `node ${rejected.name}: ${r.code ?? ''} ${r.reason ?? ''}`.trim() };
  }
  const applied: string[] = [];
  const excluded: string[] = [];
  const waitingFor: string[] = [];
  let until: number | null = null;
  for (const n of nodes) {
    if (n.appliedGeneration !== null && n.appliedGeneration >= generation) applied.push(n.name);
    else if (!n.up && n.downSince !== null && now - n.downSince >= cfg.downGraceMs) excluded.push(n.name);
    else {
      waitingFor.push(n.name);
      if (!n.up && n.downSince !== null) until = Math.min(until ?? Infinity, n.downSince + cfg.downGraceMs);
    }
  }
  if (waitingFor.length === 0 && applied.length > 0) return { kind: 'applied', applied, excluded };
  return { kind: 'waiting', waitingFor, until };
}

/** The reason recorded with the site's ack: which nodes applied it and which were left out. */
export function appliedReason(v: Extract<SiteNodesVerdict, { kind: 'applied' }>, cfg: NodeGateConfig): string {
  const left = v.excluded.length ? `; left out (down longer than ${Math.round(cfg.downGraceMs / 1000)} s): ${v.excluded.join(', ')}` : '';
  return `applied by node(s) ${v.applied.join(', ')}${left}`;
}
