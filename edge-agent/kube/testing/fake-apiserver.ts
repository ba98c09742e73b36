// An in-process Kubernetes API server that speaks the real wire protocol for the resources the agent watches,
// so tests run the agent's real list/watch client against it instead of mocking it:
//   - list with a global resourceVersion (etcd-like), get, create (POST), replace (PUT), delete (DELETE)
//   - watch (?watch=true): chunked JSON lines from a resourceVersion; without one (or "0") the current state
//     first as ADDED; label/field selectors with the real enter/leave semantics (ADDED/DELETED when an object
//     starts/stops matching); allowWatchBookmarks -> periodic BOOKMARK events and one before a timeout;
//     timeoutSeconds ends the stream
//   - history is bounded and can be compacted: a watch (200 + ERROR event) or list (HTTP 410) from a
//     resourceVersion older than the history answers 410 "Expired", as the real one does
//   - bearer-token auth (401 Status without it), discovery under /api, /apis (policy.networking.k8s.io only
//     when CRDs are on), /version
// Deviations: no admission, no namespace cascade on delete, no pagination (limit/continue), plain HTTP.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { apiVersionOf, RESOURCES, resourceByKind, type ResourceDef } from '../api-resources.ts';
import { WeftError } from '../../../base/index.ts';
import { SelectorError } from '../../../policy/index.ts';
import { fieldSelector, labelSelector, type Matcher } from './selectors.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface FakeApiServerOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Bearer token required on every request but health checks. Undefined: no auth. */
  token?: string;
  /** Serve the network-policy-api CRDs (default true): true for all, or the versions installed. */
  crds?: boolean | readonly string[];
  /** Interval of BOOKMARK events on watches that allow them (default 1000 ms; the real one is ~1 min). */
  bookmarkIntervalMs?: number;
  /** Events kept for watches that resume from a resourceVersion (default 1000); older ones get 410. */
  historyLimit?: number;
  objects?: KubeObject[];
  clock?: () => number;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEvent {
  rv: number;
  def: ResourceDef;
  type: EventType;
  obj: KubeObject;
  old?: KubeObject;
}

interface Watcher {
  def: ResourceDef;
  matches: Matcher;
  send(type: string, obj: unknown): void;
  end(): void;
}

/** What the fake answers a bad request with: the HTTP status and the Kubernetes Status reason. */
class FakeApiError extends WeftError<'KUBE_API'> {
  override readonly name = 'FakeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super('KUBE_API', message);
  }
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const keyOf = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;
const clone = <T>(o: T): T => structuredClone(o);

export class FakeApiServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly watchers = new Set<Watcher>();
  private readonly objects = new Map<string, Map<string, KubeObject>>(RESOURCES.map((d) => [d.resource, new Map()]));
  private history: HistoryEvent[] = [];
  private rv = 0;
  /** Events at or below this resourceVersion are gone. */
  private compactedRv = 0;
  private port: number;
  private readonly host: string;
  private readonly clock: () => number;
  readonly token: string | undefined;
  crds: boolean | readonly string[];
  /** Requests served, for tests that check how a client behaved (e.g. that a bookmark spared a relist). */
  readonly counts = { lists: {} as Record<string, number>, watches: {} as Record<string, number>, lastBookmarkRv: {} as Record<string, number> };

  constructor(private readonly opts: FakeApiServerOptions = {}) {
    this.port = opts.port ?? 0;
    this.host = opts.host ?? '127.0.0.1';
    this.token = opts.token;
    this.crds = opts.crds ?? true;
    this.clock = opts.clock ?? Date.now;
    const sorted = [...(opts.objects ?? [])].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
    for (const o of sorted) this.create(o);
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    await s.listen();
    return s;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Starts (or, after stop(), restarts) listening on the same port, keeping all objects and history. */
  async listen(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stops listening and drops every connection, open watches included (a crash or restart of the API server). */
  async stop(): Promise<void> {
    for (const w of this.watchers) w.end();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Ends every open watch stream cleanly (as the API server does at its request timeout). */
  closeWatches(): void {
    for (const w of this.watchers) w.end();
  }

  /** Forgets all history: every resourceVersion before now is too old (410 Gone) to resume from. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  kubeconfig(): string {
    const user = this.token ? { token: this.token } : {};
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // Plain HTTP; kubectl and client libraries send a token over http only with TLS verification explicitly off.
      clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake', user }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
      'current-context': 'fake',
    });
  }

  writeKubeconfig(path: string): void {
    writeFileSync(path, this.kubeconfig(), { mode: 0o600 });
  }

  // ---- programmatic API -------------------------------------------------------------------------------

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const def = this.defOf(kind);
    const o = this.objects.get(def.resource)!.get(keyOf(def.namespaced ? namespace : undefined, name));
    return o && clone(o);
  }

  list(kind: string): KubeObject[] {
    return [...this.objects.get(this.defOf(kind).resource)!.values()].map(clone);
  }

  create(input: KubeObject): KubeObject {
    const def = this.defOf(input.kind);
    const obj = this.normalize(def, input);
    const coll = this.objects.get(def.resource)!;
    const key = keyOf(obj.metadata.namespace, obj.metadata.name);
    if (coll.has(key)) throw new FakeApiError(409, 'AlreadyExists', `${def.resource} "${obj.metadata.name}" already exists`);
    if (def.namespaced && !this.objects.get('namespaces')!.has(keyOf(undefined, obj.metadata.namespace!))) {
      throw new FakeApiError(404, 'NotFound', `namespaces "${obj.metadata.namespace}" not found`);
    }
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = new Date(this.clock()).toISOString();
    return this.commit(def, 'ADDED', obj);
  }

  update(input: KubeObject): KubeObject {
    const def = this.defOf(input.kind);
    const obj = this.normalize(def, input);
    const old = this.objects.get(def.resource)!.get(keyOf(obj.metadata.namespace, obj.metadata.name));
    if (!old) throw new FakeApiError(404, 'NotFound', `${def.resource} "${obj.metadata.name}" not found`);
    if (input.metadata.resourceVersion && input.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw new FakeApiError(409, 'Conflict', `Operation cannot be fulfilled on ${def.resource} "${obj.metadata.name}": the object has been modified`);
    }
    obj.metadata.uid = old.metadata.uid;
    obj.metadata.creationTimestamp = old.metadata.creationTimestamp;
    return this.commit(def, 'MODIFIED', obj, old);
  }

  /** Create or update, like `kubectl apply` without the merge. */
  apply(input: KubeObject): KubeObject {
    const def = this.defOf(input.kind);
    const exists = this.objects.get(def.resource)!.has(keyOf(def.namespaced ? (input.metadata.namespace ?? 'default') : undefined, input.metadata.name));
    const { resourceVersion: _ignored, ...metadata } = input.metadata;
    return exists ? this.update({ ...input, metadata }) : this.create(input);
  }

  delete(kind: string, namespace: string | undefined, name: string): KubeObject {
    const def = this.defOf(kind);
    const coll = this.objects.get(def.resource)!;
    const key = keyOf(def.namespaced ? namespace : undefined, name);
    const old = coll.get(key);
    if (!old) throw new FakeApiError(404, 'NotFound', `${def.resource} "${name}" not found`);
    const gone = clone(old);
    return this.commit(def, 'DELETED', gone, old);
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private defOf(kind: string | undefined): ResourceDef {
    const def = kind ? resourceByKind(kind) : undefined;
    if (!def) throw new FakeApiError(400, 'BadRequest', `kind ${JSON.stringify(kind)} is not served (serves ${RESOURCES.map((r) => r.kind).join(', ')})`);
    return def;
  }

  private normalize(def: ResourceDef, input: KubeObject): KubeObject {
    if (!input.metadata?.name) throw new FakeApiError(422, 'Invalid', `${def.kind}: metadata.name is required`);
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    if (def.namespaced) obj.metadata.namespace ??= 'default';
    else delete obj.metadata.namespace;
    return obj;
  }

  private commit(def: ResourceDef, type: EventType, obj: KubeObject, old?: KubeObject): KubeObject {
    this.rv += 1;
    obj.metadata.resourceVersion = String(this.rv);
    const coll = this.objects.get(def.resource)!;
    const key = keyOf(obj.metadata.namespace, obj.metadata.name);
    if (type === 'DELETED') coll.delete(key);
    else coll.set(key, obj);
    const ev: HistoryEvent = { rv: this.rv, def, type, obj: clone(obj), old: old && clone(old) };
    this.history.push(ev);
    const limit = this.opts.historyLimit ?? 1000;
    if (this.history.length > limit) {
      const dropped = this.history.splice(0, this.history.length - limit);
      this.compactedRv = dropped.at(-1)!.rv;
    }
    for (const w of this.watchers) if (w.def === def) this.dispatch(w, ev);
    return clone(obj);
  }

  /** What a watcher with a selector sees: objects entering the selection are ADDED, leaving it DELETED. */
  private dispatch(w: Watcher, ev: HistoryEvent): void {
    const now = ev.type !== 'DELETED' && w.matches(ev.obj);
    const before = ev.old !== undefined && w.matches(ev.old);
    if (ev.type === 'DELETED') {
      if (before) w.send('DELETED', ev.obj);
    } else if (now) w.send(before ? 'MODIFIED' : 'ADDED', ev.obj);
    else if (before) w.send('DELETED', ev.obj);
  }

  private route(pathname: string): { def: ResourceDef; namespace?: string; name?: string } | { doc: unknown } | null {
    const parts = pathname.split('/').filter(Boolean);
    if (pathname === '/version') return { doc: { major: '1', minor: '31', gitVersion: 'v1.31.0+weft-fake', platform: 'linux/amd64' } };
    if (pathname === '/api')
      return {
        doc: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `${this.host}:${this.port}` }] },
      };
    if (pathname === '/apis') return { doc: this.groupList() };
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') [group, version, rest] = ['', 'v1', parts.slice(2)];
    else if (parts[0] === 'apis' && parts.length >= 2) {
      const g = this.groupList().groups.find((x) => x.name === parts[1]);
      if (!g) return null;
      if (parts.length === 2) return { doc: { kind: 'APIGroup', apiVersion: 'v1', ...g } };
      [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
    } else return null;
    const served = RESOURCES.filter((d) => d.group === group && d.version === version && this.serves(d));
    if (served.length === 0) return null;
    if (rest.length === 0) return { doc: this.resourceList(group, version, served) };
    const find = (r: string) => served.find((d) => d.resource === r);
    // namespaces/<ns>/<resource>[/<name>] for namespaced resources; <resource>[/<name>] otherwise.
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const def = find(rest[2]);
      return def?.namespaced && rest.length <= 4 ? { def, namespace: rest[1], name: rest[3] } : null;
    }
    const def = find(rest[0]);
    return def && rest.length <= 2 && (rest.length === 1 || !def.namespaced) ? { def, name: rest[1] } : null;
  }

  private groupList(): {
    kind: string;
    apiVersion: string;
    groups: { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion: { groupVersion: string; version: string } }[];
  } {
    const versions = new Map<string, string[]>();
    for (const d of RESOURCES)
      if (d.group && this.serves(d)) {
        const list = versions.get(d.group) ?? [];
        if (!list.includes(d.version)) list.push(d.version);
        versions.set(d.group, list);
      }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      // Newest version first and preferred, as the API server orders them (v1alpha2 before v1alpha1).
      groups: [...versions].map(([name, list]) => {
        const vs = [...list]
          .sort()
          .reverse()
          .map((version) => ({ groupVersion: `${name}/${version}`, version }));
        return { name, versions: vs, preferredVersion: vs[0] };
      }),
    };
  }

  /** A core resource always; a CRD's when its version is installed. */
  private serves(d: ResourceDef): boolean {
    return !d.crd || this.crds === true || (Array.isArray(this.crds) && this.crds.includes(d.version));
  }

  private resourceList(group: string, version: string, defs: ResourceDef[]): unknown {
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: defs.map((d) => ({
        name: d.resource,
        singularName: d.kind.toLowerCase(),
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: ['create', 'delete', 'get', 'list', 'update', 'watch'],
      })),
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      send(401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const r = this.route(url.pathname);
    if (!r) {
      send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    if ('doc' in r) {
      send(200, r.doc);
      return;
    }
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      try {
        this.serve(req.method ?? 'GET', url.searchParams, r, Buffer.concat(body), res, send);
      } catch (err) {
        if (err instanceof FakeApiError) send(err.status, status(err.status, err.reason, err.message));
        else if (err instanceof SelectorError) send(400, status(400, 'BadRequest', err.message));
        else send(500, status(500, 'InternalError', String(err)));
      }
    });
  }

  private serve(
    method: string,
    q: URLSearchParams,
    r: { def: ResourceDef; namespace?: string; name?: string },
    body: Buffer,
    res: ServerResponse,
    send: (code: number, body: unknown) => void,
  ): void {
    const { def, namespace, name } = r;
    const parse = (): KubeObject => {
      try {
        const o = JSON.parse(body.toString()) as KubeObject;
        if (def.namespaced && namespace) o.metadata = { ...o.metadata, namespace };
        return { ...o, kind: def.kind };
      } catch {
        throw new FakeApiError(400, 'BadRequest', 'the request body is not JSON');
      }
    };
    if (method === 'POST' && !name) return send(201, this.create(parse()));
    if (method === 'PUT' && name) return send(200, this.update(parse()));
    if (method === 'DELETE' && name) return send(200, this.delete(def.kind, namespace, name));
    if (method !== 'GET') return send(405, status(405, 'MethodNotAllowed', `${method} is not supported here`));
    if (name) {
      const o = this.get(def.kind, namespace, name);
      return o ? send(200, o) : send(404, status(404, 'NotFound', `${def.resource} "${name}" not found`));
    }
    const inNs = (o: KubeObject) => namespace === undefined || o.metadata.namespace === namespace;
    const labels = labelSelector(q.get('labelSelector'));
    const fields = fieldSelector(q.get('fieldSelector'));
    const matches: Matcher = (o) => inNs(o as KubeObject) && labels(o) && fields(o);
    const watch = q.get('watch');
    if (watch === 'true' || watch === '1') return this.watch(def, matches, q, res);

    this.counts.lists[def.resource] = (this.counts.lists[def.resource] ?? 0) + 1;
    const fromRv = Number(q.get('resourceVersion') || 0);
    if (fromRv > 0 && q.get('resourceVersionMatch') === 'Exact' && fromRv < this.compactedRv) {
      return send(410, status(410, 'Expired', `too old resource version: ${fromRv} (${this.compactedRv})`));
    }
    const items = [...this.objects.get(def.resource)!.values()].filter(matches).map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    send(200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: this.resourceVersion }, items });
  }

  private watch(def: ResourceDef, matches: Matcher, q: URLSearchParams, res: ServerResponse): void {
    this.counts.watches[def.resource] = (this.counts.watches[def.resource] ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as the real server does: the client's watch() resolves on headers, before any event
    const line = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    const rvParam = q.get('resourceVersion');
    const from = Number(rvParam || 0);
    if (from > 0 && from < this.compactedRv) {
      line('ERROR', status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`));
      res.end();
      return;
    }
    const timers: NodeJS.Timeout[] = [];
    const bookmark = () => {
      line('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: this.resourceVersion } });
      this.counts.lastBookmarkRv[def.resource] = this.rv;
    };
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const w: Watcher = {
      def,
      matches,
      send: line,
      end: () => {
        timers.forEach(clearTimeout);
        this.watchers.delete(w);
        if (!res.writableEnded) res.end();
      },
    };
    res.on('close', () => w.end());
    if (from === 0) {
      for (const o of this.objects.get(def.resource)!.values()) if (matches(o)) line('ADDED', o);
    } else {
      for (const ev of this.history) if (ev.rv > from && ev.def === def) this.dispatch(w, ev);
    }
    this.watchers.add(w);
    if (bookmarks) timers.push(setInterval(bookmark, this.opts.bookmarkIntervalMs ?? 1000));
    const timeoutS = Number(q.get('timeoutSeconds') || 0);
    if (timeoutS > 0) {
      timers.push(
        setTimeout(() => {
          if (bookmarks) bookmark();
          w.end();
        }, timeoutS * 1000),
      );
    }
  }
}
