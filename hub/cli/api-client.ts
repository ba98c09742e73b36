// The CLI's HTTP client: node:https with the pinned hub CA (fetch cannot take a CA), or plain HTTP
// for a loopback hub. Responses are parsed JSON; transport failures are ApiUnreachable.
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { WeftError } from '../../base/index.ts';

export interface ApiResponse {
  status: number;
  body: unknown;
}

export class ApiUnreachable extends WeftError<'CLI_HUB_UNREACHABLE'> {
  override readonly name = 'ApiUnreachable';
  constructor(message: string, cause?: unknown) {
    super('CLI_HUB_UNREACHABLE', message, 'is the hub running, and is --hub its URL?', { cause });
  }
}

export interface ApiTarget {
  hub: string;
  token?: string;
  caPem?: string;
  /** Only for fetching the CA at login, before it is pinned: the fingerprint check replaces TLS trust. */
  insecure?: boolean;
  /** Connect to this unix socket instead of the URL's host (a hub in another network namespace, field-tests/lib/hub-main.ts). */
  socketPath?: string;
}

/** A request body streamed from a file as application/octet-stream (a release artifact), not JSON. */
export class FileBody {
  constructor(readonly path: string) {}
}

export function request(t: ApiTarget, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  const url = new URL(path, t.hub);
  const file = body instanceof FileBody ? body : null;
  const payload = body === undefined || file ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (t.token) headers.authorization = `Bearer ${t.token}`;
  if (payload) headers['content-type'] = 'application/json';
  if (file) {
    headers['content-type'] = 'application/octet-stream';
    headers['content-length'] = String(statSync(file.path).size);
  }
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, headers, ca: t.caPem, rejectUnauthorized: !t.insecure, timeout: 30_000, socketPath: t.socketPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // not JSON (e.g. /metrics): keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 30 s')));
    req.on('error', (e) => reject(new ApiUnreachable(`cannot reach the hub at ${t.hub}: ${e.message}`, e)));
    if (file) createReadStream(file.path).pipe(req);
    else req.end(payload);
  });
}
