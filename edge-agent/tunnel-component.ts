// The site's WireGuard tunnel to the hub (tunnel/SiteTunnel: kernel WireGuard or wireguard-go),
// configured from the enrollment, keyed with the device's own X25519 key. It also carries the links
// to other sites (mesh/mesh-agent.ts), which it hands out as a MeshTunnel.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { errorMessage } from '../base/index.ts';
import { SiteTunnel, WgPrivateKey } from '../tunnel/index.ts';
import type { Logger } from './logger.ts';
import type { MeshTunnel } from './mesh/mesh-agent.ts';
import type { TunnelComponent } from './network.ts';

const TUNNEL_IFNAME = 'weft0';

function readPort(file: string | undefined): number | undefined {
  if (!file || !existsSync(file)) return undefined;
  const n = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

/**
 * `portFile`: where the interface's listen port is kept. The port the first start picked is used again
 * after every restart: linked sites and both NATs hold this endpoint, and while the hub is unreachable
 * nobody could tell them a new one.
 */
export function siteTunnel(log: Logger, ifname = TUNNEL_IFNAME, portFile?: string): TunnelComponent {
  let tunnel: SiteTunnel | null = null;
  let lastError: string | undefined;
  return {
    async up(enrollment, identity) {
      tunnel = new SiteTunnel({ ifname, privateKey: WgPrivateKey.fromBase64(identity.wireguardPrivateKey()), logger: log, listenPort: readPort(portFile) });
      try {
        await tunnel.up(enrollment.wireguard);
        lastError = undefined;
        if (portFile) writeFileSync(portFile, `${(await tunnel.current.state()).listenPort}\n`, { mode: 0o600 });
        log.info({ ifname, hub: enrollment.wireguard.hubEndpoint }, 'tunnel up');
      } catch (e) {
        lastError = errorMessage(e);
        throw e;
      }
    },
    async status() {
      if (!tunnel) return { up: false, handshakeAgeS: null, detail: lastError ?? 'not started' };
      try {
        return { up: true, handshakeAgeS: await tunnel.handshakeAgeS(), detail: lastError };
      } catch (e) {
        return { up: false, handshakeAgeS: null, detail: errorMessage(e) };
      }
    },
    mesh(): MeshTunnel | null {
      const t = tunnel;
      if (!t) return null;
      return {
        ifname,
        hubKey: () => t.hub,
        setPeer: (p) => t.current.setPeer(p),
        removePeer: (k) => t.current.removePeer(k),
        state: () => t.current.state(),
        setHubRelayed: (x) => t.setHubRelayed(x),
        setRoutes: (x) => t.current.setExtraRoutes(x),
      };
    },
    async down() {
      await tunnel?.down();
    },
  };
}
