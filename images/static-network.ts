// The provisioning file's optional static network, as a systemd-networkd unit. image:provision and
// build-image put it on the boot partition next to weft-provision.json; at boot weft-network.service
// copies it to /run/systemd/network before networkd starts, where it wins over the DHCP default.
import { isIP } from 'node:net';
import type { StaticNetwork } from '../edge-agent/index.ts';
import { ImageError } from './errors.ts';

/** Its name on the boot partition. */
export const STATIC_NETWORK_FILE = 'weft-static.network';

/** The .network unit for `net` (from `file`, named in errors); DHCP stays on when no address is given. */
export function staticNetworkUnit(net: StaticNetwork, file = 'weft-provision.json'): string {
  const bad = (field: string, msg: string, example: string): never => {
    throw new ImageError('IMAGE_BAD_PROVISION', `${file}: network.${field}: ${msg}`, `e.g. ${example}; omit "network" for DHCP`);
  };
  const ip = (v: unknown, field: string): string =>
    typeof v === 'string' && isIP(v) ? v : bad(field, `${JSON.stringify(v)} is not an IP address`, '"192.0.2.1"');
  const cidr = (v: unknown): string => {
    const m = typeof v === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(v) : null;
    const family = m ? isIP(m[1]) : 0;
    return m && family && Number(m[2]) <= (family === 4 ? 32 : 128)
      ? (v as string)
      : bad('address', `${JSON.stringify(v)} is not an address with a prefix length`, '"192.0.2.10/24"');
  };
  if (net.interface !== undefined && (typeof net.interface !== 'string' || !/^[A-Za-z0-9_.:*-]{1,15}$/.test(net.interface))) {
    bad('interface', `${JSON.stringify(net.interface)} is not an interface name`, '"enp1s0"');
  }
  if (net.dns !== undefined && !Array.isArray(net.dns)) bad('dns', 'must be a list', '["192.0.2.1"]');
  const lines = ['[Match]', `Name=${net.interface ?? 'en* eth*'}`, '', '[Network]'];
  lines.push(net.address !== undefined ? `Address=${cidr(net.address)}` : 'DHCP=yes');
  if (net.gateway !== undefined) lines.push(`Gateway=${ip(net.gateway, 'gateway')}`);
  (net.dns ?? []).forEach((d, i) => lines.push(`DNS=${ip(d, `dns[${i}]`)}`));
  lines.push('LinkLocalAddressing=no', '');
  return lines.join('\n');
}
