// The hub as relay of last resort: every site's hub peer also owns the site's mapped block, so a
// linked site whose direct path is down sends to the hub, and the hub's interface forwards the packet
// to the peer owning the destination block (in and out of the same WireGuard interface).
import { MappedPlan } from '../../protocol/index.ts';
import type { OverlayPlan } from '../../tunnel/index.ts';

interface PeersLike {
  addPeer(siteId: string, publicKey: string, addresses: string[], routed?: string[]): Promise<void>;
  removePeer(siteId: string): Promise<void>;
}

/** Wraps the hub's peers: adding a site adds its mapped block (found from its overlay address) to its peer. */
export function withRelay<P extends PeersLike>(inner: P, overlay: OverlayPlan, plan: MappedPlan = new MappedPlan()): PeersLike {
  return {
    addPeer: (siteId, publicKey, addresses, routed = []) => {
      const index = addresses.map((a) => overlay.indexOf(a)).find((i) => i !== null) ?? null;
      return inner.addPeer(siteId, publicKey, addresses, index === null || index >= plan.blocks ? routed : [...routed, plan.block(index)]);
    },
    removePeer: (siteId) => inner.removePeer(siteId),
  };
}
