// The demo's hub, in this process on the host: the real startHub with the router on, and (as root)
// a WireGuard interface as its peer list, its broker also on the overlay address, and its API
// reachable by the sites over the WAN.
import { join } from 'node:path';
import { defaultConfig, type HubConfig, startHub, type Hub } from '../../hub/index.ts';
import { HubTunnel, loadOrCreatePrivateKey } from '../../tunnel/index.ts';
import type { StartOptions } from './args.ts';
import { StartError } from './errors.ts';
import { USERS_AT } from './workloads.ts';

/** The demo's overlay: not the 10.99 of the field tests, since this one lives on the host. */
export const OVERLAY = { v4: '10.98.0.0/24', v6: 'fd00:98::/64', hubAddresses: ['10.98.0.1/24', 'fd00:98::1/64'] };

export interface DemoNetwork {
  /** The host's address on the fabric's WAN. */
  wanIp: string;
  /** Name of the hub's WireGuard interface on the host. */
  wgIfname: string;
}

export interface DemoHub {
  hub: Hub;
  tunnel: HubTunnel | null;
  close(): Promise<void>;
}

export async function startDemoHub(o: StartOptions, net: DemoNetwork | null): Promise<DemoHub> {
  const dataDir = join(o.dataDir, 'hub');
  const config: HubConfig = {
    ...defaultConfig(dataDir),
    httpsPort: o.httpsPort,
    httpPort: o.httpPort,
    // Sites fail over in seconds, not tens of them.
    heartbeatIntervalS: 1,
    rolloutTickMs: 200,
    logLevel: o.logLevel,
    router: { zone: o.zone, dns: { host: '127.0.0.1', port: o.dnsPort }, ttl: 5, defaultLocation: USERS_AT },
  };
  config.mqtt = { hosts: ['127.0.0.1'], port: o.mqttPort };
  let tunnel: HubTunnel | null = null;
  if (net) {
    tunnel = new HubTunnel({
      ifname: net.wgIfname,
      privateKey: loadOrCreatePrivateKey(join(o.dataDir, 'hub-wireguard.key')),
      listenPort: o.wgPort,
      addresses: OVERLAY.hubAddresses,
      peerKeepaliveS: 5,
    });
    await tunnel.up();
    config.tlsNames = [net.wanIp];
    config.mqtt.hosts.push(OVERLAY.hubAddresses[0].split('/')[0]);
    config.overlayV4 = OVERLAY.v4;
    config.overlayV6 = OVERLAY.v6;
    config.wireguard = { endpoint: `${net.wanIp}:${o.wgPort}`, persistentKeepaliveS: 5, mtu: 1380, peers: tunnel, publicKey: tunnel.publicKey };
  }
  let hub: Hub;
  try {
    hub = await startHub(config);
  } catch (e) {
    await tunnel?.down();
    const err = e as NodeJS.ErrnoException & { port?: number };
    if (err.code === 'EADDRINUSE') {
      throw new StartError(
        'START_PORT_IN_USE',
        `a port the hub needs is in use: ${err.message}`,
        'stop what uses it, or pick other ports: npm start -- --https-port 0 --http-port 0 --mqtt-port 0 --dns-port 0 (0: any free port)',
      );
    }
    throw e;
  }
  const t = tunnel;
  return {
    hub,
    tunnel,
    close: async () => {
      await hub.close();
      await t?.down();
    },
  };
}
