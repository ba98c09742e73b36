// A client for the UAPI control socket of a userspace WireGuard (wireguard-go): one connection
// per request, reply read until the blank line that ends it.
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { TunnelError } from './errors.ts';
import type { DeviceConfig, DeviceState, WgControl } from './model.ts';
import { formatSet, GET_REQUEST, checkErrno, parseGet } from './uapi-text.ts';

/** wireguard-go puts its socket here; the path is the same from inside any network namespace. */
export const UAPI_SOCKET_DIR = '/var/run/wireguard';

export function uapiSocketPath(ifname: string, dir = UAPI_SOCKET_DIR): string {
  return join(dir, `${ifname}.sock`);
}

export class UapiClient implements WgControl {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 5000,
  ) {}

  /** Sends one raw request and returns the raw reply (up to and including its closing blank line). */
  request(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(this.socketPath);
      let reply = '';
      let done = false;
      const finish = (err: TunnelError | null) => {
        if (done) return;
        done = true;
        sock.destroy();
        if (err) reject(err);
        else resolve(reply);
      };
      sock.setEncoding('utf8');
      sock.setTimeout(this.timeoutMs, () =>
        finish(new TunnelError('TUNNEL_UAPI_PROTOCOL', `UAPI socket ${this.socketPath} did not answer within ${this.timeoutMs} ms`)),
      );
      sock.on('connect', () => sock.write(text));
      sock.on('data', (chunk: string) => {
        reply += chunk;
        // Every reply ends with "errno=N\n\n".
        if (/(?:^|\n)errno=-?\d+\n\n$/.test(reply)) finish(null);
      });
      sock.on('error', (err: NodeJS.ErrnoException) => {
        if (reply === '' && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) {
          finish(
            new TunnelError(
              'TUNNEL_UAPI_CONNECT',
              `cannot connect to UAPI socket ${this.socketPath}: ${err.code}`,
              'is wireguard-go running for this interface?',
            ),
          );
        } else {
          finish(new TunnelError('TUNNEL_UAPI_PROTOCOL', `UAPI socket ${this.socketPath}: ${err.message}`));
        }
      });
      sock.on('end', () => finish(new TunnelError('TUNNEL_UAPI_PROTOCOL', `UAPI socket ${this.socketPath} closed before a complete reply`)));
    });
  }

  async get(): Promise<DeviceState> {
    return parseGet(await this.request(GET_REQUEST));
  }

  async set(config: DeviceConfig): Promise<void> {
    checkErrno(await this.request(formatSet(config)), 'set');
  }
}
