import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from './errors.ts';
import { hasDefaultRoute, isNoRouteError } from './net-ready.ts';

const V4_HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
const V6_LO_REJECT =
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo';
const V6_LOOPBACK =
  '00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo';

function procNet(route: string[], ipv6: string[]): { dir: string; check: () => boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-wag-procnet-'));
  writeFileSync(join(dir, 'route'), [V4_HEADER, ...route].join('\n') + '\n');
  writeFileSync(join(dir, 'ipv6_route'), ipv6.join('\n') + '\n');
  return { dir, check: () => hasDefaultRoute(dir) };
}

describe('network readiness', () => {
  it.each<[string, string[], string[], boolean]>([
    // What a freshly booted appliance has before DHCP: only lo, and the kernel's IPv6 reject default on lo.
    ['before DHCP', [], [V6_LO_REJECT, V6_LOOPBACK], false],
    ['a link route but no gateway', ['eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0'], [V6_LO_REJECT], false],
    [
      'IPv4 default via DHCP',
      ['eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0', 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0'],
      [V6_LO_REJECT],
      true,
    ],
    ['IPv4 default that is a reject route', ['eth0\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0'], [], false],
    [
      'IPv6 default only (router advertisement)',
      [],
      [
        '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0',
        V6_LO_REJECT,
      ],
      true,
    ],
  ])('%s -> %s', (_name, route, ipv6, want) => {
    const p = procNet(route, ipv6);
    try {
      expect(p.check()).toBe(want);
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });

  it('a missing /proc/net reads as no network, not a crash', () => {
    expect(hasDefaultRoute('/nonexistent-weft-wag')).toBe(false);
  });

  it('tells "no route" (ENETUNREACH, EHOSTUNREACH) from a hub that refuses, through the cause chain', () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    expect(isNoRouteError(new AgentError('ENROLL_HUB_UNREACHABLE', 'hub unreachable: ENETUNREACH', undefined, errno('ENETUNREACH')))).toBe(true);
    expect(isNoRouteError(errno('EHOSTUNREACH'))).toBe(true);
    expect(isNoRouteError(new AgentError('ENROLL_HUB_UNREACHABLE', 'hub unreachable: ECONNREFUSED', undefined, errno('ECONNREFUSED')))).toBe(false);
    expect(isNoRouteError(new AgentError('ENROLL_HUB_UNREACHABLE', 'hub unreachable: ENETUNREACH'))).toBe(false); // no cause: no guess from the text
  });
});
