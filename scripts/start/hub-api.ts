// The demo talks to its hub the way ops do: the HTTP API with the admin token (over the loopback
// listener), through the weft CLI's own client.
import { readFileSync } from 'node:fs';
import { request, type ApiTarget, type Hub } from '../../hub/index.ts';
import { StartError } from './errors.ts';

export class HubApi {
  private readonly target: ApiTarget;

  constructor(hub: Hub) {
    if (!hub.httpUrl) throw new StartError('START_HUB_API', 'the hub has no loopback HTTP listener', 'pass --http-port');
    this.target = { hub: hub.httpUrl, token: readFileSync(hub.adminTokenFile, 'utf8').trim() };
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await request(this.target, method, path, body);
    if (r.status < 200 || r.status > 299) throw new StartError('START_HUB_API', `hub API ${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body as T;
  }
}
