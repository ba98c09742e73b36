// The hub's door to its WireGuard interface. main.ts wires the tunnel/ implementation; without a tunnel
// (tests, or a hub whose sites reach the broker directly) MemoryPeers records what would be configured.

export interface Peers {
  addPeer(siteId: string, publicKey: string, addresses: string[]): Promise<void>;
  removePeer(siteId: string): Promise<void>;
}

export class MemoryPeers implements Peers {
  readonly peers = new Map<string, { publicKey: string; addresses: string[] }>();

  async addPeer(siteId: string, publicKey: string, addresses: string[]): Promise<void> {
    this.peers.set(siteId, { publicKey, addresses });
  }

  async removePeer(siteId: string): Promise<void> {
    this.peers.delete(siteId);
  }
}
