// Interface addresses, routes, MTU and links through iproute2, inside a network namespace when
// one is given (`ip -n <ns>`), so the same code configures the host and a test's namespaces.
import { run } from './exec.ts';
import type { RunResult } from './exec.ts';

export interface Where {
  netns?: string;
}

export function ip(args: string[], where: Where = {}): Promise<RunResult> {
  return run(where.netns ? ['ip', '-n', where.netns, ...args] : ['ip', ...args]);
}

export async function linkExists(name: string, where: Where = {}): Promise<boolean> {
  try {
    await ip(['link', 'show', 'dev', name], where);
    return true;
  } catch {
    return false;
  }
}

export async function linkDelete(name: string, where: Where = {}): Promise<void> {
  if (await linkExists(name, where)) await ip(['link', 'del', 'dev', name], where);
}

export async function linkUp(name: string, where: Where = {}): Promise<void> {
  await ip(['link', 'set', 'dev', name, 'up'], where);
}

export async function setMtu(name: string, mtu: number, where: Where = {}): Promise<void> {
  await ip(['link', 'set', 'dev', name, 'mtu', String(mtu)], where);
}

/** Adds (or keeps) an address with prefix, e.g. 10.99.0.2/32 or fd00:99::2/128. */
export async function addAddress(name: string, cidr: string, where: Where = {}): Promise<void> {
  await ip([cidr.includes(':') ? '-6' : '-4', 'addr', 'replace', cidr, 'dev', name], where);
}

/** Routes a prefix out of a device (replacing any route to the same prefix). */
export async function addRoute(cidr: string, dev: string, where: Where = {}): Promise<void> {
  await ip([cidr.includes(':') ? '-6' : '-4', 'route', 'replace', cidr, 'dev', dev], where);
}

/**
 * Lets IPv4 packets arriving on this interface be forwarded (net.ipv4.conf.<if>.forwarding): Linux
 * decides by the incoming interface, so nothing else on the host starts forwarding.
 */
export async function setForwarding(name: string, where: Where = {}): Promise<void> {
  const cmd = ['sysctl', '-q', '-w', `net.ipv4.conf.${name}.forwarding=1`];
  await run(where.netns ? ['ip', 'netns', 'exec', where.netns, ...cmd] : cmd);
}
