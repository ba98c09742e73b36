// The in-kernel WireGuard link (`ip link add <if> type wireguard`), configured with `wg`
// over netlink because the kernel module exposes no UAPI socket.
import type { BackendKind, WgDevice } from './device.ts';
import { ip, linkDelete } from './iproute2.ts';
import { WgToolControl } from './wg-tool.ts';

export class KernelDevice implements WgDevice {
  readonly kind: BackendKind = 'kernel';
  readonly control: WgToolControl;

  constructor(
    readonly ifname: string,
    readonly netns?: string,
  ) {
    this.control = new WgToolControl(ifname, netns);
  }

  async start(onReady: () => Promise<void>): Promise<void> {
    await ip(['link', 'add', 'dev', this.ifname, 'type', 'wireguard'], { netns: this.netns });
    await onReady();
  }

  async stop(): Promise<void> {
    await linkDelete(this.ifname, { netns: this.netns });
  }
}
