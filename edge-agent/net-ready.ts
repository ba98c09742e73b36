// Is there an uplink yet? On first boot the agent starts before DHCP (enforcement must not wait for
// the network), so enrollment first meets a machine with no address and no default route. That is
// "waiting for network", not an enrollment failure. Read from /proc, as `ip route` shows it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCode } from '../base/index.ts';

/** Route flags (linux/route.h, linux/ipv6_route.h). */
const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

function lines(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length > 1);
  } catch {
    return [];
  }
}

/** A usable (up, not a reject route, not on lo) IPv4 or IPv6 default route. */
export function hasDefaultRoute(procNet = '/proc/net'): boolean {
  // /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ... (first line is the header)
  const v4 = lines(join(procNet, 'route'))
    .slice(1)
    .some(
      ([iface, dest, , flags, , , , mask]) =>
        iface !== 'lo' && dest === '00000000' && mask === '00000000' && (parseInt(flags, 16) & RTF_UP) !== 0 && (parseInt(flags, 16) & RTF_REJECT) === 0,
    );
  // /proc/net/ipv6_route: dest destlen src srclen nexthop metric refcnt use flags iface (no header)
  const v6 = lines(join(procNet, 'ipv6_route')).some(
    (f) => f[0] === '0'.repeat(32) && f[1] === '00' && f[9] !== 'lo' && (parseInt(f[8], 16) & RTF_UP) !== 0 && (parseInt(f[8], 16) & RTF_REJECT) === 0,
  );
  return v4 || v6;
}

/** The connect errors that mean "no route from here", as opposed to a hub that is down or refusing. */
const NO_ROUTE = new Set(['ENETUNREACH', 'EHOSTUNREACH']);

export function isNoRouteError(e: unknown): boolean {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    const code = errorCode(c);
    if (code && NO_ROUTE.has(code)) return true;
  }
  return false;
}
