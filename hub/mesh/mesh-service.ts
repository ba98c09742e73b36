// The hub's side of the mesh: it listens to what sites report (site/+/mesh, retained, so a restarted
// hub has them back from the broker), resolves the declared links, and publishes to every linked site
// its signed peer bundle (site/<id>/peers, retained) whenever the content changes: a link declared or
// removed, a site reporting new pods or endpoints, the hub seeing a site's NAT mapping move.
// It also keeps each site's path reports for the hub's view of the links.
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { canonicalJson, signMesh } from '../../policy/index.ts';
import { decode, delivery, parseSiteTopic, topics, type MappedPlan, type MeshPathReport, type MeshReport } from '../../protocol/index.ts';
import type { HubStore } from '../store/types.ts';
import { meshContents, type MeshSite } from './distribute.ts';
import { resolveLinks, type SitePair } from './links.ts';

export interface MeshClient {
  on(event: 'message', f: (topic: string, payload: Buffer) => void): unknown;
  off(event: 'message', f: (topic: string, payload: Buffer) => void): unknown;
  subscribeAsync(filter: Record<string, { qos: 0 | 1 }>): Promise<unknown>;
  publishAsync(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<unknown>;
}

export interface MeshServiceOptions {
  store: HubStore;
  client: MeshClient;
  plan: MappedPlan;
  hostRoutes(index: number): string[];
  /** The endpoint the hub's WireGuard interface last saw each site at. */
  observed(): Promise<Map<string, string | null>>;
  signer(): KeyObject;
  now(): number;
  log: Logger;
}

export interface LinkPathView {
  /** The site that reported it. */
  from: string;
  to: string;
  state: MeshPathReport['state'] | 'unknown';
  handshakeAgeS: number | null;
  since: string | null;
}

export class MeshService {
  private readonly reports = new Map<string, MeshReport>();
  /** Canonical content last published per site, and its generation. */
  private readonly published = new Map<string, { content: string; generation: number }>();
  private pairs: SitePair[] = [];
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: MeshServiceOptions) {}

  private readonly onMessage = (topic: string, payload: Buffer) => {
    const t = parseSiteTopic(topic);
    if (!t || t.kind !== 'mesh') return;
    if (payload.length === 0) {
      this.reports.delete(t.siteId);
      return;
    }
    try {
      this.reports.set(t.siteId, decode('mesh', payload));
      void this.refreshSoon();
    } catch (e) {
      this.o.log.debug({ site: t.siteId, err: (e as Error).message }, 'malformed mesh report dropped');
    }
  };

  async start(intervalMs: number): Promise<void> {
    this.o.client.on('message', this.onMessage);
    await this.o.client.subscribeAsync({ [topics.allSites('mesh')]: { qos: 1 } });
    await this.refresh();
    // Endpoints the hub observes move when a NAT re-maps: looked at again every interval.
    this.timer = setInterval(() => this.refreshSoon(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.o.client.off('message', this.onMessage);
  }

  /** Recompute and publish what changed; calls while one runs fold into one more run. */
  refreshSoon(): Promise<void> {
    if (this.again) return this.running;
    this.again = true;
    this.running = this.running.then(async () => {
      this.again = false;
      await this.refresh().catch((e: unknown) => this.o.log.warn({ err: (e as Error).message }, 'mesh refresh failed; the next one retries'));
    });
    return this.running;
  }

  private async refresh(): Promise<void> {
    const [links, records, observed] = await Promise.all([this.o.store.links.list(), this.o.store.sites.list(), this.o.observed()]);
    this.pairs = resolveLinks(
      links,
      records.map((s) => ({ id: s.id, labels: s.labels, enrolled: s.state === 'enrolled' })),
    );
    const sites = new Map<string, MeshSite>(
      records
        .filter((s) => s.state === 'enrolled')
        .map((s) => [s.id, { id: s.id, wireguardKey: s.wireguardKey, overlayIndex: s.overlayIndex, services: s.services }]),
    );
    const contents = meshContents({
      pairs: this.pairs,
      sites,
      reports: this.reports,
      observed,
      plan: this.o.plan,
      hostRoutes: this.o.hostRoutes,
      include: this.published.keys(),
    });
    for (const [siteId, content] of contents) {
      const canon = canonicalJson(content);
      const last = this.published.get(siteId);
      if (last?.content === canon) continue;
      // Hub time in ms: above anything this hub or an earlier one published (clocks permitting).
      const generation = Math.max(this.o.now(), (last?.generation ?? 0) + 1);
      const bytes = signMesh({ ...content, generation, issuedAt: new Date(this.o.now()).toISOString() }, this.o.signer());
      await this.o.client.publishAsync(topics.peers(siteId), bytes, delivery.peers);
      this.published.set(siteId, { content: canon, generation });
      this.o.log.info({ site: siteId, peers: content.peers.map((p) => p.siteId), generation }, 'peer bundle published');
    }
  }

  /** The resolved pairs, each direction with the path its site last reported. */
  view(): { a: string; b: string; links: number[]; paths: LinkPathView[] }[] {
    const path = (from: string, to: string): LinkPathView => {
      const p = this.reports.get(from)?.paths.find((x) => x.peer === to);
      return { from, to, state: p?.state ?? 'unknown', handshakeAgeS: p?.handshakeAgeS ?? null, since: p?.since ?? null };
    };
    return this.pairs.map((p) => ({ ...p, paths: [path(p.a, p.b), path(p.b, p.a)] }));
  }
}
