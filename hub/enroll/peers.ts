// The hub's door to its WireGuard interface. main.ts wires the tunnel/ implementation; without a tunnel
// (tests, or a hub whose sites reach the broker directly) MemoryPeers records what would be configured.

export interface Peers {
  /** `routed`: prefixes behind the site (its mapped block, for the mesh relay), kept as they are. */
  addPeer(siteId: string, publicKey: string, addresses: string[], routed?: string[]): Promise<void>;
  removePeer(siteId: string): Promise<void>;
}

export class MemoryPeers implements Peers {
  readonly peers = new Map<string, { publicKey: string; addresses: string[]; routed: string[] }>();

  async addPeer(siteId: string, publicKey: string, addresses: string[], routed: string[] = []): Promise<void> {
    this.peers.set(siteId, { publicKey, addresses, routed });
  }

  async removePeer(siteId: string): Promise<void> {
    this.peers.delete(siteId);
  }
}
