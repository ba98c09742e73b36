// Picks the WireGuard backend: the kernel module when `ip link add ... type wireguard` works
// in the target namespace, else wireguard-go.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { BackendKind, WgDevice } from './device.ts';
import { TunnelError } from './errors.ts';
import { run } from './exec.ts';
import { ip } from './iproute2.ts';
import { KernelDevice } from './kernel-device.ts';
import { WireguardGoDevice } from './wireguard-go-device.ts';
import type { BackoffOptions } from './supervisor.ts';

export type BackendPreference = BackendKind | 'auto';

/** True when the kernel can create a WireGuard link here (probed with a throwaway link). */
export async function kernelWireguardAvailable(netns?: string): Promise<boolean> {
  const probe = `wgprobe${randomBytes(3).toString('hex')}`;
  try {
    await ip(['link', 'add', 'dev', probe, 'type', 'wireguard'], { netns });
  } catch {
    return false;
  }
  await ip(['link', 'del', 'dev', probe], { netns });
  return true;
}

export async function wireguardGoAvailable(binary = 'wireguard-go'): Promise<boolean> {
  try {
    await run([binary, '--version']);
    return true;
  } catch {
    return false;
  }
}

export async function chooseBackend(pref: BackendPreference, netns?: string, wireguardGo?: string): Promise<BackendKind> {
  if (pref === 'wireguard-go' || (pref === 'auto' && !(await kernelWireguardAvailable(netns)))) {
    if (await wireguardGoAvailable(wireguardGo)) return 'wireguard-go';
    throw new TunnelError(
      'TUNNEL_BACKEND_UNAVAILABLE',
      pref === 'auto' ? 'no WireGuard kernel module and no wireguard-go binary' : 'wireguard-go is not installed',
      'apt-get install wireguard-go wireguard-tools (or load the wireguard kernel module)',
    );
  }
  if (pref === 'kernel' && !(await kernelWireguardAvailable(netns))) {
    throw new TunnelError(
      'TUNNEL_BACKEND_UNAVAILABLE',
      'the kernel cannot create WireGuard links (no wireguard module)',
      'modprobe wireguard, or use the wireguard-go backend',
    );
  }
  return 'kernel';
}

export interface DeviceOptions {
  ifname: string;
  netns?: string;
  backend?: BackendPreference;
  logger: Logger;
  wireguardGo?: string;
  backoff?: Partial<BackoffOptions>;
}

export async function createDevice(opts: DeviceOptions): Promise<WgDevice> {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(opts.ifname)) {
    throw new TunnelError('TUNNEL_BAD_CONFIG', `interface name "${opts.ifname}" is not valid`, 'use 1-15 letters, digits, "_", "." or "-"');
  }
  const kind = await chooseBackend(opts.backend ?? 'auto', opts.netns, opts.wireguardGo);
  opts.logger.info({ ifname: opts.ifname, netns: opts.netns, backend: kind }, 'WireGuard backend chosen');
  return kind === 'kernel'
    ? new KernelDevice(opts.ifname, opts.netns)
    : new WireguardGoDevice({ ifname: opts.ifname, netns: opts.netns, logger: opts.logger, binary: opts.wireguardGo, backoff: opts.backoff });
}
