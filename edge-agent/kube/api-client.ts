// The two calls the agent makes to the k3s API: GET a document (list, discovery) and GET a watch stream
// (newline-delimited {type, object} events), over node:http(s) with the kubeconfig's credentials.
import { errorMessage, WeftError } from '../../base/index.ts';
import http from 'node:http';
import https from 'node:https';
import type { KubeTarget } from './kubeconfig.ts';

/** A non-2xx answer: statusCode is what errors.ts maps to KUBE_AUTH / KUBE_FORBIDDEN / KUBE_API. */
export class KubeHttpError extends WeftError<'KUBE_API'> {
  override readonly name = 'KubeHttpError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super('KUBE_API', message);
  }
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: { metadata?: { resourceVersion?: string }; code?: number; message?: string; [k: string]: unknown };
}

export class KubeApi {
  private readonly agent: http.Agent;
  private readonly tls: boolean;

  constructor(private readonly t: KubeTarget) {
    this.tls = t.server.startsWith('https:');
    this.agent = this.tls
      ? new https.Agent({ keepAlive: true, ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: !t.insecureSkipTlsVerify })
      : new http.Agent({ keepAlive: true });
  }

  get server(): string {
    return this.t.server;
  }

  private open(path: string, signal: AbortSignal | undefined, onResponse: (res: http.IncomingMessage) => void, onError: (e: Error) => void): void {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.t.token();
    if (token) headers.authorization = `Bearer ${token}`;
    else if (this.t.basic) headers.authorization = `Basic ${Buffer.from(this.t.basic).toString('base64')}`;
    const req = (this.tls ? https : http).get(`${this.t.server}${path}`, { agent: this.agent, headers, signal }, (res) => {
      if ((res.statusCode ?? 0) >= 300) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c.length < 4096 ? c : ''));
        res.on('end', () => onError(new KubeHttpError(res.statusCode ?? 0, `HTTP ${res.statusCode}: ${statusMessage(body) ?? res.statusMessage ?? ''}`)));
        res.on('error', onError);
        return;
      }
      onResponse(res);
    });
    req.on('error', onError);
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return new Promise((resolve, reject) => {
      this.open(
        path,
        signal,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
            } catch (e) {
              reject(new KubeHttpError(0, `${path}: the answer is not JSON (${errorMessage(e)})`));
            }
          });
        },
        reject,
      );
    });
  }

  /** Streams events until the server ends the watch (resolves) or the connection fails (rejects). */
  watch(path: string, onEvent: (e: WatchEvent) => void, onOpen: () => void, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      this.open(
        path,
        signal,
        (res) => {
          onOpen();
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            buf += c;
            for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
              const line = buf.slice(0, i).trim();
              buf = buf.slice(i + 1);
              if (!line) continue;
              try {
                onEvent(JSON.parse(line) as WatchEvent);
              } catch (e) {
                res.destroy(e as Error);
                return;
              }
            }
          });
          res.on('error', reject);
          // 'aborted' connections end with an error above; a clean end is the server's watch timeout.
          res.on('end', () => resolve());
        },
        reject,
      );
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function statusMessage(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { message?: string }).message;
  } catch {
    return body.slice(0, 200) || undefined;
  }
}
