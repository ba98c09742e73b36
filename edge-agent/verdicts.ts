// Verdict events from the datapath, resolved to the policy rule that decided (the tables'
// attributions), fanned out to local /flows watchers, counted in metrics, and batched into the
// outbox as low-priority `verdicts` events for the hub (the first to go when the outbox is full).
import type { Datapath, VerdictEvent } from '../datapath/index.ts';
import type { VerdictRecord } from '../protocol/index.ts';
import type { Tables } from '../policy/index.ts';
import type { AgentMetrics } from './metrics.ts';

export interface VerdictPumpOptions {
  datapath: Datapath;
  /** The tables in force, for endpoint names and attributions. */
  tables: () => Tables | null;
  /** Appends a batch to the outbox (low priority). Absent: events stay local. */
  emitBatch?: (verdicts: VerdictRecord[]) => void;
  metrics?: AgentMetrics;
  /** The linked site an address is at (site links), null for any other address. */
  remoteSiteOf?: (ip: string) => string | null;
  batchMax?: number;
  flushMs?: number;
  clock?: () => number;
}

export type VerdictListener = (r: VerdictRecord) => void;

export function resolveVerdict(e: VerdictEvent, tables: Tables | null, at: string, remoteSiteOf?: (ip: string) => string | null): VerdictRecord {
  // The other end: where the packet came from on ingress, where it goes on egress.
  const remoteSite = remoteSiteOf?.(e.direction === 'ingress' ? e.src : e.dst) ?? null;
  const ep = tables?.endpoints.find((x) => x.endpointId === e.endpointId);
  const attr = e.ruleId === 0 ? undefined : tables?.attributions.find((a) => a.id === e.ruleId);
  return {
    at,
    generation: e.generation,
    endpoint: ep?.pod ?? `endpoint#${e.endpointId}`,
    direction: e.direction,
    verdict: e.verdict,
    proto: e.proto,
    src: e.src,
    dst: e.dst,
    sport: e.sport,
    dport: e.dport,
    policy: attr
      ? {
          kind: attr.kind,
          ...(attr.tier ? { tier: attr.tier } : {}),
          ...(attr.namespace ? { namespace: attr.namespace } : {}),
          name: attr.name,
          rule: attr.rule,
          ...(attr.ruleName ? { ruleName: attr.ruleName } : {}),
        }
      : null,
    ...(remoteSite ? { remoteSite } : {}),
  };
}

export function policyLabel(p: VerdictRecord['policy']): string {
  return p ? `${p.kind}:${p.namespace ? `${p.namespace}/` : ''}${p.name}` : 'default';
}

export class VerdictPump {
  private readonly listeners = new Set<VerdictListener>();
  private batch: VerdictRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private iterator: AsyncIterator<VerdictEvent> | null = null;

  constructor(private readonly o: VerdictPumpOptions) {}

  start(): void {
    const it = this.o.datapath.events()[Symbol.asyncIterator]();
    this.iterator = it;
    this.running = (async () => {
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        this.handle(n.value);
      }
    })().catch(() => undefined);
    this.timer = setInterval(() => this.flush(), this.o.flushMs ?? 1000);
    this.timer.unref();
  }

  subscribe(fn: VerdictListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  handle(e: VerdictEvent): void {
    const rec = resolveVerdict(e, this.o.tables(), new Date((this.o.clock ?? Date.now)()).toISOString(), this.o.remoteSiteOf);
    this.o.metrics?.verdicts.inc({ verdict: rec.verdict });
    if (rec.verdict === 'deny') this.o.metrics?.drops.inc({ policy: policyLabel(rec.policy) });
    for (const l of this.listeners) l(rec);
    if (!this.o.emitBatch) return;
    this.batch.push(rec);
    if (this.batch.length >= (this.o.batchMax ?? 500)) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0 || !this.o.emitBatch) return;
    const b = this.batch;
    this.batch = [];
    this.o.emitBatch(b);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.flush();
    await this.iterator?.return?.();
    await Promise.race([this.running, new Promise((r) => setTimeout(r, 100))]);
  }
}
