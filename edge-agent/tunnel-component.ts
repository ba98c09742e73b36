// The site's WireGuard tunnel to the hub (tunnel/SiteTunnel: kernel WireGuard or wireguard-go),
// configured from the enrollment, keyed with the device's own X25519 key.
import { errorMessage } from '../base/index.ts';
import { SiteTunnel, WgPrivateKey } from '../tunnel/index.ts';
import type { Logger } from './logger.ts';
import type { TunnelComponent } from './network.ts';

const TUNNEL_IFNAME = 'weft0';

export function siteTunnel(log: Logger, ifname = TUNNEL_IFNAME): TunnelComponent {
  let tunnel: SiteTunnel | null = null;
  let lastError: string | undefined;
  return {
    async up(enrollment, identity) {
      tunnel = new SiteTunnel({ ifname, privateKey: WgPrivateKey.fromBase64(identity.wireguardPrivateKey()), logger: log });
      try {
        await tunnel.up(enrollment.wireguard);
        lastError = undefined;
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
    async down() {
      await tunnel?.down();
    },
  };
}
