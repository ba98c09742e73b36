// Debian's wireguard-go, run in the foreground inside the target namespace (so its tun device
// lives there) and supervised by us. Its UAPI socket path is the same from every namespace,
// so interface names must be unique on the machine, not just in their namespace.
import { errorMessage } from '../base/index.ts';
import { rmSync } from 'node:fs';
import type { Logger } from 'pino';
import type { BackendKind, WgDevice } from './device.ts';
import { TunnelError } from './errors.ts';
import { netnsArgv } from '../base/index.ts';
import { linkDelete, linkExists } from './iproute2.ts';
import { Supervisor } from './supervisor.ts';
import type { BackoffOptions } from './supervisor.ts';
import { UapiClient, uapiSocketPath, UAPI_SOCKET_DIR } from './uapi.ts';

export interface WireguardGoOptions {
  ifname: string;
  netns?: string;
  logger: Logger;
  binary?: string;
  socketDir?: string;
  backoff?: Partial<BackoffOptions>;
  /** How long to wait for the UAPI socket after a start. */
  readyTimeoutMs?: number;
}

export class WireguardGoDevice implements WgDevice {
  readonly kind: BackendKind = 'wireguard-go';
  readonly ifname: string;
  readonly netns?: string;
  readonly control: UapiClient;
  readonly supervisor: Supervisor;
  private onReady: () => Promise<void> = async () => {};

  constructor(private readonly opts: WireguardGoOptions) {
    this.ifname = opts.ifname;
    this.netns = opts.netns;
    this.control = new UapiClient(uapiSocketPath(opts.ifname, opts.socketDir ?? UAPI_SOCKET_DIR));
    this.supervisor = new Supervisor({
      name: `wireguard-go ${opts.ifname}`,
      argv: netnsArgv([opts.binary ?? 'wireguard-go', '-f', opts.ifname], opts.netns),
      env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: opts.logger.isLevelEnabled('debug') ? 'verbose' : 'error' },
      backoff: opts.backoff,
      logger: opts.logger,
      onStart: async () => {
        await this.waitForSocket();
        await this.onReady();
      },
    });
  }

  /** The daemon's pid, for supervision tests and diagnostics. */
  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  async start(onReady: () => Promise<void>): Promise<void> {
    this.onReady = onReady;
    await this.clearOrphan();
    try {
      await this.supervisor.start();
    } catch (err) {
      await this.stop();
      // A TunnelError is our own setup failing (an address, a key): report it as it is.
      if (err instanceof TunnelError) throw err;
      throw new TunnelError(
        'TUNNEL_BACKEND_UNAVAILABLE',
        `wireguard-go for ${this.ifname} did not come up: ${errorMessage(err)}`,
        'is another process using this interface name? is /dev/net/tun present?',
      );
    }
  }

  /**
   * A daemon whose supervisor died (kill -9 of the agent) keeps its interface, and a new daemon
   * cannot take the name. Deleting the link makes the orphan exit; its socket goes with it.
   */
  private async clearOrphan(): Promise<void> {
    const where = { netns: this.netns };
    if (!(await linkExists(this.ifname, where))) return;
    this.opts.logger.warn({ ifname: this.ifname, netns: this.netns }, 'removing a WireGuard interface left by an earlier process');
    await linkDelete(this.ifname, where);
    const deadline = Date.now() + 3000;
    while (
      Date.now() < deadline &&
      (await this.control.get().then(
        () => true,
        () => false,
      ))
    )
      await new Promise((r) => setTimeout(r, 50));
    rmSync(this.control.socketPath, { force: true });
  }

  /** Polls the socket: after a crash a stale socket file refuses connections until the new daemon replaces it. */
  private async waitForSocket(): Promise<void> {
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 5000);
    for (;;) {
      try {
        await this.control.get();
        return;
      } catch (err) {
        if (!(err instanceof TunnelError) || err.code !== 'TUNNEL_UAPI_CONNECT') throw err;
        if (Date.now() > deadline) throw new TunnelError('TUNNEL_START_TIMEOUT', `wireguard-go created no UAPI socket at ${this.control.socketPath}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
    // wireguard-go removes both on SIGTERM; after a SIGKILL they may remain.
    rmSync(this.control.socketPath, { force: true });
    await linkDelete(this.ifname, { netns: this.netns });
  }
}
