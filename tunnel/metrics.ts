// Prometheus gauges for the hub's tunnels, read from the device at scrape time.
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { HubPeer } from './hub-tunnel.ts';

export interface PeerSource {
  peers(): Promise<HubPeer[]>;
}

/** Registers weft_tunnel_* gauges (labelled by site) that read `source` on every scrape. */
export function registerTunnelMetrics(registry: Registry, source: PeerSource): void {
  const labelNames = ['site'] as const;
  // One device read per scrape, shared by the three gauges.
  let scrape: Promise<HubPeer[]> | undefined;
  const read = () => (scrape ??= source.peers().finally(() => setImmediate(() => (scrape = undefined))));
  const gauge = (name: string, help: string, value: (p: HubPeer) => number | null) => {
    const g: Gauge<'site'> = new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        g.reset();
        for (const p of await read()) {
          const v = value(p);
          if (v !== null) g.set({ site: p.siteId }, v);
        }
      },
    });
  };
  gauge('weft_tunnel_handshake_age_seconds', 'Seconds since the last WireGuard handshake with the site (absent before the first)', (p) => p.handshakeAgeS);
  gauge('weft_tunnel_rx_bytes', 'Bytes received from the site through the tunnel', (p) => p.rxBytes);
  gauge('weft_tunnel_tx_bytes', 'Bytes sent to the site through the tunnel', (p) => p.txBytes);
}
