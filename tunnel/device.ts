// A WireGuard link and the way to configure it. Two implementations: kernel-device.ts and
// wireguard-go-device.ts; backend.ts picks one.
import type { WgControl } from './model.ts';

export type BackendKind = 'kernel' | 'wireguard-go';

export interface WgDevice {
  readonly kind: BackendKind;
  readonly ifname: string;
  readonly netns?: string;
  readonly control: WgControl;
  /**
   * Creates the link. `onReady` runs each time a fresh, empty link exists (at start, and again
   * after wireguard-go was restarted), so the caller can apply its whole desired state.
   */
  start(onReady: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}
