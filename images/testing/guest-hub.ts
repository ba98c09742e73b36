// A real hub on the host's loopback, as an appliance under qemu sees it: at 10.0.2.100 (a guestfwd
// address inside slirp's 10.0.2.0/24), with a server certificate naming that address, the broker
// URL handed out at enrollment pointing there too, and the forwards that make it reachable.
import { startTestHub, type TestHub } from '../../hub/testing/index.ts';
import type { GuestForward } from '../qemu.ts';

export const GUEST_HUB = '10.0.2.100';
const GUEST_HTTPS = 8443;
const GUEST_MQTT = 1883;

export interface GuestHub {
  t: TestHub;
  forwards: GuestForward[];
  /** The provisioning file the hub writes (`weft site token --provision-file`), for a new site. */
  provision(site: string): Promise<Record<string, unknown>>;
  /** The same file around a token that has already expired. */
  provisionExpired(site: string): Promise<Record<string, unknown>>;
}

export async function startGuestHub(): Promise<GuestHub> {
  const t = await startTestHub((c) => {
    c.tlsNames = [GUEST_HUB];
    c.publicUrl = `https://${GUEST_HUB}:${GUEST_HTTPS}`;
    // MQTT over TCP straight to the broker: guestfwd carries TCP only, so the WireGuard tunnel
    // (UDP) cannot cross it; the image under test runs with `tunnel: off` (docs/technician.md).
    c.mqtt.siteUrl = `mqtt://${GUEST_HUB}:${GUEST_MQTT}`;
  });
  const create = async (site: string) => {
    const r = await t.api('POST', '/v1/sites', { name: site });
    if (r.status !== 201) throw new Error(`create ${site}: ${JSON.stringify(r.body)}`);
  };
  return {
    t,
    forwards: [
      { guest: GUEST_HUB, guestPort: GUEST_HTTPS, hostPort: Number(new URL(t.hub.url).port) },
      { guest: GUEST_HUB, guestPort: GUEST_MQTT, hostPort: t.hub.broker.port },
    ],
    async provision(site) {
      await create(site);
      const r = await t.api('POST', `/v1/sites/${site}/token`, {});
      if (r.status !== 201) throw new Error(`token ${site}: ${JSON.stringify(r.body)}`);
      return r.body.provisioning as Record<string, unknown>;
    },
    async provisionExpired(site) {
      await create(site);
      // The API's shortest lifetime is a minute; the service issues one that is over at once.
      const { token, expiresAt } = await t.hub.services.sites.issueToken(site, 'test', 1);
      return {
        v: 1,
        hubUrl: t.hub.services.publicUrl,
        caFingerprint: t.hub.caFingerprint,
        siteName: site,
        token,
        expiresAt: new Date(expiresAt).toISOString(),
      };
    },
  };
}
