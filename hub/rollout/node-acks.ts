// The I/O around node-gate.ts: records each node's acks and applied generations, and turns them into
// the site's ack the rollout engine counts, once the pure verdict says the site applied (or rejected)
// a generation. Sites that wait on a down node are looked at again on a timer, so a node powered off
// is left out when its grace ends even if nothing else happens.
import type { Logger } from 'pino';
import type { AckMessage } from '../../protocol/index.ts';
import type { HubStore } from '../store/types.ts';
import { appliedReason, siteNodesVerdict, type NodeFacts, type NodeGateConfig } from './node-gate.ts';

/** What the health model says of a node: up, or down since when (never heard: undefined). */
export type NodeLiveness = (siteId: string, node: string) => { up: boolean; since: number } | undefined;

export interface NodeAcksDeps {
  store: HubStore;
  /** The rollout engine's door for a site's ack (RolloutEngine.onAck). */
  onSiteAck(siteId: string, ack: AckMessage): Promise<void>;
  liveness: NodeLiveness;
  now: () => number;
  config: NodeGateConfig;
  log: Logger;
  /** How often waiting sites are looked at again. Default 1 s. */
  tickMs?: number;
}

export class NodeAcks {
  /** Rejections by node (`site/node`): kept in memory, as the engine records the site's rejection. */
  private readonly rejections = new Map<string, NonNullable<NodeFacts['rejected']>>();
  /** Sites waiting on a node; re-evaluated every tick. */
  private readonly waiting = new Set<string>();
  /** Generations already turned into a site ack (site:generation): each once per process. */
  private readonly decided = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly d: NodeAcksDeps) {
    this.timer = setInterval(() => void this.tick(), d.tickMs ?? 1000);
    this.timer.unref();
  }

  async onNodeAck(siteId: string, node: string, ack: AckMessage): Promise<void> {
    if (ack.result === 'applied') await this.d.store.nodes.recordApplied(siteId, node, ack.generation, this.d.now());
    else this.rejections.set(`${siteId}/${node}`, { generation: ack.generation, code: ack.code ?? null, reason: ack.reason ?? null });
    await this.evaluate(siteId);
  }

  /** A node's heartbeat: its applied generation counts as its ack (an ack lost, or sent before the hub recorded the bundle). */
  async onNodeAppliedGeneration(siteId: string, node: string, generation: number): Promise<void> {
    const n = await this.d.store.nodes.get(siteId, node);
    if (!n) return;
    if ((n.appliedGeneration ?? -1) < generation) await this.d.store.nodes.recordApplied(siteId, node, generation, this.d.now());
    await this.evaluate(siteId);
  }

  /** The facts the verdict needs about a site's enrolled nodes. */
  async facts(siteId: string): Promise<NodeFacts[]> {
    return (await this.d.store.nodes.list(siteId))
      .filter((n) => n.state === 'enrolled')
      .map((n) => {
        const l = this.d.liveness(siteId, n.name);
        const upNow = l?.up ?? false;
        return {
          name: n.name,
          appliedGeneration: n.appliedGeneration,
          rejected: this.rejections.get(`${siteId}/${n.name}`) ?? null,
          up: upNow,
          downSince: upNow ? null : (l?.since ?? n.enrolledAt),
        };
      });
  }

  private async evaluate(siteId: string): Promise<void> {
    const pending = await this.d.store.rollouts.pendingForSite(siteId);
    const generations = [...new Set(pending.map((p) => p.generation).filter((g): g is number => g !== null))];
    if (generations.length === 0) {
      this.waiting.delete(siteId);
      return;
    }
    const nodes = await this.facts(siteId);
    let stillWaiting = false;
    for (const generation of generations) {
      const key = `${siteId}:${generation}`;
      if (this.decided.has(key)) continue;
      const v = siteNodesVerdict(generation, nodes, this.d.now(), this.d.config);
      const at = new Date(this.d.now()).toISOString();
      if (v.kind === 'waiting') {
        stillWaiting = true;
        continue;
      }
      this.decided.add(key);
      const ack: AckMessage =
        v.kind === 'applied'
          ? { v: 1, generation, result: 'applied', reason: appliedReason(v, this.d.config), at }
          : { v: 1, generation, result: 'rejected', ...(v.code ? { code: v.code } : {}), reason: v.reason, at };
      this.d.log.info({ siteId, generation, result: ack.result, reason: ack.reason }, 'site ack decided from its nodes');
      await this.d.onSiteAck(siteId, ack);
    }
    if (stillWaiting) this.waiting.add(siteId);
    else this.waiting.delete(siteId);
  }

  private async tick(): Promise<void> {
    for (const siteId of [...this.waiting]) {
      try {
        await this.evaluate(siteId);
      } catch (err) {
        this.d.log.warn({ siteId, err: String(err) }, 'node acks: evaluation failed; the next tick retries');
      }
    }
  }

  /** A node came back up or went down: a waiting site may now pass. */
  async nodeChanged(siteId: string): Promise<void> {
    if (this.waiting.has(siteId)) await this.evaluate(siteId);
  }

  /** A site with nodes whose rollout rows are pending (at start, or after a rollout published its bundle): watch it. */
  watch(siteId: string): void {
    this.waiting.add(siteId);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
