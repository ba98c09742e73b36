// The hub running in the fabric's hub namespace (hub-main.ts), seen from the test process: its
// HTTP API through the forwarded unix socket (real HTTP, admin token), and its control channel.
import { readFileSync } from 'node:fs';
import { request } from '../../hub/index.ts';
import { join } from 'node:path';
import { HarnessError } from './errors.ts';
import type { Fabric, WanMember } from './fabric.ts';
import type { Harness } from './harness.ts';
import type { ControlAnswer, ControlRequest, HubReady } from './hub-main.ts';
import type { NsProcess } from './ns-process.ts';
import { REPO_ROOT, tsEntry } from './repo.ts';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

/** Distributes Omit over a union, so each control request keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class HubProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (a: ControlAnswer) => void>();
  private constructor(
    readonly proc: NsProcess,
    readonly ready: HubReady,
    readonly dataDir: string,
    readonly apiSocket: string,
    readonly adminToken: string,
  ) {
    proc.onStdoutLine((line) => {
      if (!line.startsWith('CTL ')) return;
      const a = JSON.parse(line.slice(4)) as ControlAnswer;
      this.pending.get(a.id)?.(a);
      this.pending.delete(a.id);
    });
  }

  /**
   * Starts the hub in `fabric.hub.ns` (or, one node of several, in `opts.member`'s namespace with its own
   * data dir, name and WireGuard link; `opts.args` are more hub-main.ts flags) and waits until its API and
   * broker listen.
   */
  static async start(
    h: Harness,
    fabric: Fabric,
    opts: { zone?: string; member?: WanMember; role?: string; args?: string[]; dataDir?: string; nodeDownGraceS?: number } = {},
  ): Promise<HubProcess> {
    const role = opts.role ?? 'hub';
    const member = opts.member ?? fabric.hub;
    const dataDir = opts.dataDir ?? join(h.dir, role);
    const apiSocket = join(h.dir, `${role}-api.sock`);
    const argv = [
      ...tsEntry('field-tests/lib/hub-main.ts'),
      '--data-dir',
      dataDir,
      '--wg-ifname',
      h.names.wgIfname(role),
      '--wan-ip',
      member.wanIp,
      '--api-socket',
      apiSocket,
      ...(opts.args ?? []),
    ];
    if (opts.zone) argv.push('--zone', opts.zone);
    if (opts.nodeDownGraceS !== undefined) argv.push('--node-down-grace-s', String(opts.nodeDownGraceS));
    const proc = h.spawn(member.ns, argv, { name: role, stdin: true, cwd: REPO_ROOT });
    const m = await proc.waitForOutput(/^HUB-READY (.*)$/m, 90_000);
    const ready = JSON.parse(m[1]) as HubReady;
    return new HubProcess(proc, ready, dataDir, apiSocket, readFileSync(ready.adminTokenFile, 'utf8').trim());
  }

  /** One API call as the admin (hub/cli's client, over the socket); non-2xx answers are returned, not thrown (tests assert refusals). */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const r = await request({ hub: 'http://hub', token: this.adminToken, socketPath: this.apiSocket }, method, path, body);
    return { status: r.status, body: r.body as T };
  }

  /** Like api(), but throws unless the answer is 2xx; returns the body. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.api<T>(method, path, body);
    if (r.status < 200 || r.status > 299)
      throw new HarnessError('HARNESS_COMMAND_FAILED', `hub API ${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  control<T = unknown>(req: WithoutId<ControlRequest>): Promise<T> {
    if (!this.proc.running) return Promise.reject(new HarnessError('HARNESS_COMMAND_FAILED', `the hub is not running:\n${this.proc.logs().slice(-2000)}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HarnessError('HARNESS_TIMEOUT', `hub control ${req.op} did not answer in 30 s`));
      }, 30_000);
      this.pending.set(id, (a) => {
        clearTimeout(timer);
        if (a.ok) resolve(a.result as T);
        else reject(new HarnessError('HARNESS_COMMAND_FAILED', `hub control ${req.op}: ${a.error}`));
      });
      this.proc.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }
}
