// Local HTTP on 127.0.0.1 for the technician and the node's own monitoring: /healthz, /readyz
// (enforcing), /status, /metrics, /flows (ndjson; ?follow=1 keeps streaming) and a small status page.
// node:http rather than fastify: six fixed routes, and it keeps the agent's idle memory small.
import { errorMessage } from '../base/index.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { VerdictRecord } from '../protocol/index.ts';
import { statusPage } from './status-page.ts';
import { matchesFlow, type AgentStatus, type FlowFilter } from './status-types.ts';

export interface StatusApiOptions {
  host: string;
  port: number;
  status: () => Promise<AgentStatus>;
  registry: Registry;
  recentFlows: () => VerdictRecord[];
  subscribeFlows: (fn: (r: VerdictRecord) => void) => () => void;
}

export class StatusApi {
  private server: Server | null = null;
  private readonly streams = new Set<ServerResponse>();

  constructor(private readonly o: StatusApiOptions) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${errorMessage(e)}\n`);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'GET only\n');
    switch (url.pathname) {
      case '/healthz':
        return send(res, 200, 'text/plain', 'ok\n');
      case '/readyz': {
        const s = await this.o.status();
        return send(res, s.enforcing ? 200 : 503, 'text/plain', `${s.state}\n`);
      }
      case '/status':
        return send(res, 200, 'application/json', JSON.stringify(await this.o.status(), null, 2) + '\n');
      case '/metrics':
        return send(res, 200, this.o.registry.contentType, await this.o.registry.metrics());
      case '/flows':
        return this.flows(url, res);
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', statusPage(await this.o.status(), this.o.recentFlows().slice(-50)));
      default:
        return send(res, 404, 'text/plain', 'not found\n');
    }
  }

  private flows(url: URL, res: ServerResponse): void {
    const verdict = url.searchParams.get('verdict');
    if (verdict && !['allow', 'deny', 'audit'].includes(verdict)) return send(res, 400, 'text/plain', 'verdict must be allow, deny or audit\n');
    const filter: FlowFilter = { verdict: (verdict ?? undefined) as FlowFilter['verdict'], pod: url.searchParams.get('pod') ?? undefined };
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    for (const r of this.o.recentFlows()) if (matchesFlow(r, filter)) res.write(JSON.stringify(r) + '\n');
    if (url.searchParams.get('follow') !== '1') return void res.end();
    this.streams.add(res);
    const off = this.o.subscribeFlows((r) => {
      if (matchesFlow(r, filter)) res.write(JSON.stringify(r) + '\n');
    });
    res.on('close', () => {
      off();
      this.streams.delete(res);
    });
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
