// What `weft-agent status --json`, GET /status and the status page show. One shape for all three.
import type { NotEnforcing, VerdictRecord } from '../protocol/index.ts';
import type { DatapathKind } from './datapath-select.ts';
import type { LinkStatus, SiblingNode } from './link.ts';
import type { MeshPeerStatus } from './mesh/mesh-agent.ts';

export interface AgentStatus {
  version: string;
  /** The one-line state (`enforcing generation 7`). */
  state: string;
  enrolled: boolean;
  siteId: string | null;
  /** This device's node name, when it is a node of a multi-node site. */
  node?: string;
  /** The site's other nodes as this node last heard them (their status and heartbeats over the broker). */
  siteNodes?: SiblingNode[];
  enforcing: boolean;
  datapath: {
    /** The datapath in use; null while the kernel datapath cannot load (nothing is filtered). */
    kind: DatapathKind | null;
    /** Packets are filtered in the kernel. */
    kernelEnforcing: boolean;
    /** Why not, with the code and the fix (null when kernelEnforcing). */
    notEnforcing: (NotEnforcing & { fix?: string }) | null;
    appliedGeneration: number;
    appliedAt: string | null;
    enforcingSince: string | null;
    timeToEnforcingS: number | null;
  };
  hub: { link: LinkStatus | null; clockSkewMs: number | null };
  tunnel: TunnelStatus | null;
  lastRejection: { generation: number; code: string; reason: string; at: string } | null;
  outbox: { depth: number; lostRecords: number } | null;
  pods: { attached: number; names: string[] };
  store: { path: string; writable: boolean; opened: string; lastError: string | null } | null;
  kube: { synced: boolean; lastError: string | null } | null;
  /** Site links: each linked site's path (direct, relayed through the hub, down) and direct handshake age; null: no links over this tunnel. */
  mesh: MeshPeerStatus[] | null;
}

export interface TunnelStatus {
  up: boolean;
  handshakeAgeS: number | null;
  detail?: string;
}

export interface FlowFilter {
  verdict?: VerdictRecord['verdict'];
  /** `namespace/name` */
  pod?: string;
}

export function matchesFlow(r: VerdictRecord, f: FlowFilter): boolean {
  return (!f.verdict || r.verdict === f.verdict) && (!f.pod || r.endpoint === f.pod);
}
