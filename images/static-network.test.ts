import { describe, expect, it } from 'vitest';
import { ImageError } from './errors.ts';
import { staticNetworkUnit } from './static-network.ts';

describe('static network from the provisioning file', () => {
  it.each([
    [
      'address, gateway and DNS on every wired port',
      { address: '192.0.2.10/24', gateway: '192.0.2.1', dns: ['192.0.2.1', '2001:db8::53'] },
      '[Match]\nName=en* eth*\n\n[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\nDNS=192.0.2.1\nDNS=2001:db8::53\nLinkLocalAddressing=no\n',
    ],
    [
      'one named interface, IPv6',
      { interface: 'enp1s0', address: '2001:db8::10/64' },
      '[Match]\nName=enp1s0\n\n[Network]\nAddress=2001:db8::10/64\nLinkLocalAddressing=no\n',
    ],
    ['only DNS servers: DHCP stays on', { dns: ['192.0.2.53'] }, '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\nDNS=192.0.2.53\nLinkLocalAddressing=no\n'],
  ])('%s', (_name, net, want) => expect(staticNetworkUnit(net)).toBe(want));

  it.each([
    [{ address: '192.0.2.10' }, /network\.address: "192\.0\.2\.10" is not an address with a prefix length/],
    [{ address: '192.0.2.10/33' }, /network\.address/],
    [{ address: '192.0.2.10/24', gateway: 'router' }, /network\.gateway: "router" is not an IP address/],
    [{ dns: ['192.0.2.1', 'x'] }, /network\.dns\[1\]: "x" is not an IP address/],
    [{ interface: 'eth0\nName=*' }, /network\.interface/],
  ])('refuses %j, naming the field', (net, message) => {
    const e = (() => {
      try {
        staticNetworkUnit(net as never);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ImageError);
    expect((e as ImageError).code).toBe('IMAGE_BAD_PROVISION');
    expect((e as ImageError).message).toMatch(message);
    expect((e as ImageError).hint).toMatch(/omit "network" for DHCP/);
  });
});
