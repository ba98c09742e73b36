// The site's WireGuard tunnel to the hub (tunnel/SiteTunnel: kernel WireGuard or wireguard-go),
// configured from the enrollment, keyed with the device's own X25519 key. Past one hub machine the
// tunnel has a peer per hub node; each node is probed with a TCP connect to the broker's port on the
// node's own overlay address, and the broker's address moves to another node when its node stops
// answering (tunnel/failover.ts); the MQTT link then reconnects through the new node.
import { connect } from 'node:net';
import { errorMessage } from '../base/index.ts';
import { SiteTunnel, WgPrivateKey } from '../tunnel/index.ts';
import type { Logger } from './logger.ts';
import type { TunnelComponent } from './network.ts';

const TUNNEL_IFNAME = 'weft0';
const PROBE_TIMEOUT_MS = 1500;

/** Resolves true when a TCP connection to host:port opens within the timeout. */
export function tcpProbe(port: number, timeoutMs = PROBE_TIMEOUT_MS): (host: string) => Promise<boolean> {
  return (host) =>
    new Promise((resolve) => {
      const sock = connect({ host, port });
      const done = (ok: boolean) => {
        clearTimeout(timer);
        sock.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      sock.once('connect', () => done(true));
      sock.once('error', () => done(false));
    });
}

/** The broker URL's port (mqtt 1883, mqtts 8883 by default). */
export function brokerPort(url: string): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : u.protocol === 'mqtts:' ? 8883 : 1883;
}

export function siteTunnel(log: Logger, ifname = TUNNEL_IFNAME, probeIntervalMs?: number): TunnelComponent {
  let tunnel: SiteTunnel | null = null;
  let lastError: string | undefined;
  return {
    async up(enrollment, identity) {
      tunnel = new SiteTunnel({
        ifname,
        privateKey: WgPrivateKey.fromBase64(identity.wireguardPrivateKey()),
        logger: log,
        probe: tcpProbe(brokerPort(enrollment.broker.url)),
        probeIntervalMs,
      });
      try {
        await tunnel.up(enrollment.wireguard);
        lastError = undefined;
        log.info({ ifname, hub: enrollment.wireguard.hubEndpoint, hubNodes: enrollment.wireguard.hubs?.map((h) => h.name) }, 'tunnel up');
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
