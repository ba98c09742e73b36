// Staged rollouts: the I/O around the decisions of state-machine.ts. All state lives in the store, so
// a step is read (load), decide (nextStep), write (save: progress and audit in one transaction), then
// publish the bundles it asked for and log. Acks are batched into one transaction per burst and wake
// the rollouts they touch. After a hub restart, resume() ticks every running rollout: unacked bundles
// are republished (same generation, same bytes) and heartbeats reporting an applied generation count
// as acks that were lost. Ops may pause a rollout (nothing more goes out, no stage passes) and resume
// it. Every change to a rollout is announced on `changes` (the rollout's id), which the progress
// stream (GET /v1/rollouts/:id/events) follows.
import { EventEmitter } from 'node:events';
import { errorMessage } from '../../base/index.ts';
import type { Logger } from 'pino';
import type { AckMessage } from '../../protocol/index.ts';
import { HubError } from '../errors.ts';
import type { AckRecord, BundleRecord, HubStore, LabelSelector, RolloutRecord, RolloutSite, SiteRecord, StageSpec, StoreRepos } from '../store/types.ts';
import { StoreError } from '../store/errors.ts';
import { AlwaysLeader } from './always-leader.ts';
import type { BundleService } from './bundles.ts';
import type { EngineLease } from './lease.ts';
import { planStages } from './plan.ts';
import { matches } from './selector.ts';
import { joinTarget, nextStep, type RolloutConfig, type RolloutInput, type RolloutProgress, type RolloutStep, sentKey, unsent } from './state-machine.ts';

export interface RolloutRequest {
  policyVersion: number;
  selector: LabelSelector;
  stages: StageSpec[];
  auditWindowS: number;
  /** Supersede a running rollout instead of refusing. */
  force?: boolean;
}

export interface RolloutStatus {
  rollout: RolloutRecord;
  stages: { index: number; name: string; sites: RolloutSite[]; applied: number; rejected: number; pending: number }[];
}

/** How long acks gather before they are written in one transaction. */
const ACK_FLUSH_MS = 10;

/** Rollouts still in play: running, or paused by ops. */
const LIVE = ['running', 'paused'] as const;

export class RolloutEngine {
  /** Emits 'change' with a rollout id whenever its state or any of its sites' rows changed in this process. */
  readonly changes = new EventEmitter().setMaxListeners(0);
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<number>();
  /** Rollouts whose tick was asked for while one ran: the running tick steps once more. */
  private readonly again = new Set<number>();
  /**
   * Per running rollout, `${site}:${generation}` published by this process (retained QoS 1 delivers
   * them, so each goes out once per process), and the stages all of whose bundles went out: a step
   * over such a stage only counts acks in SQL instead of reading every site's row.
   */
  private readonly published = new Map<number, { bundles: Set<string>; stages: Set<number> }>();
  /** Acks received and not yet written: a burst is recorded in one transaction (see onAck). */
  private readonly pendingAcks: { siteId: string; ack: AckMessage; device: string | undefined; receivedAt: number }[] = [];
  /** Rollouts with a tick queued for the next turn of the event loop (see schedule()). */
  private readonly scheduled = new Set<number>();
  private stopped = false;

  constructor(
    private readonly store: HubStore,
    private readonly bundles: BundleService,
    private readonly now: () => number,
    private readonly log: Logger,
    /** Past one hub, only the lease holder steps rollouts and records acks (lease.ts). */
    private readonly lease: EngineLease = new AlwaysLeader(),
  ) {}

  /**
   * Inside an engine write: refuses it unless this engine still holds the lease at the epoch the store
   * has (fencing). On PostgreSQL the check locks the lease row, so a takeover waits for this write.
   */
  private async fence(tx: StoreRepos): Promise<void> {
    const mine = this.lease.epoch();
    if (mine === null || (await tx.rollouts.leaseEpoch()) !== mine) {
      throw new StoreError('STORE_LEASE_LOST', `this hub no longer holds the rollout lease (epoch ${mine ?? 'none'})`, 'another hub runs the rollouts now');
    }
  }

  /** Ticks running rollouts every intervalMs (audit windows end, failed publishes are retried). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      // The store may be down (PostgreSQL restarting): the next tick retries.
      this.resume().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'rollout tick failed; the next tick retries'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  async resume(): Promise<void> {
    if (!this.lease.isLeader()) return;
    const running = await this.store.rollouts.list({ state: 'running', limit: 1000 });
    // Forget what this process published for rollouts that stopped running (superseded, rolled back).
    for (const id of this.published.keys()) if (!running.some((r) => r.id === id)) this.published.delete(id);
    for (const r of running) await this.tick(r.id);
  }

  async create(req: RolloutRequest, actor: string): Promise<RolloutRecord> {
    if (req.policyVersion !== 0 && !(await this.store.policies.get(req.policyVersion))) {
      throw new HubError('POLICY_VERSION_NOT_FOUND', `no policy version ${req.policyVersion}`);
    }
    const targets = (await this.store.sites.list({ state: 'enrolled' })).filter((s) => matches(req.selector, s.labels)).map((s) => s.id);
    if (!targets.length) throw new HubError('ROLLOUT_NO_SITES', 'no enrolled site matches the selector');
    const plan = planStages(targets, req.stages);
    const id = await this.store.tx(async (tx) => {
      await this.supersedeRunning(tx, req.force === true, actor);
      const t = this.now();
      const rid = await tx.rollouts.create(
        {
          kind: 'rollout',
          policyVersion: req.policyVersion,
          selector: req.selector,
          stages: plan.stages,
          auditWindowS: req.auditWindowS,
          state: 'running',
          stage: 0,
          stageAckedAt: null,
          reason: null,
          createdBy: actor,
          createdAt: t,
          updatedAt: t,
        },
        plan.assignment.map((a) => ({ ...a, policyVersion: req.policyVersion })),
      );
      await tx.audit.record({ at: t, actor, action: 'rollout.start', target: `rollout/${rid}`, details: { ...req, sites: targets.length } });
      return rid;
    });
    await this.tick(id);
    return (await this.store.rollouts.get(id))!;
  }

  /**
   * Rolls back a rollout (default: the latest): every site it reached gets the policy version it had
   * before, as a NEW generation (agents never go back to an old generation number).
   */
  async rollback(rolloutId: number | undefined, actor: string): Promise<RolloutRecord> {
    const target =
      rolloutId !== undefined ? await this.store.rollouts.get(rolloutId) : (await this.store.rollouts.list({ limit: 50 })).find((r) => r.kind === 'rollout');
    if (!target) throw new HubError(rolloutId !== undefined ? 'ROLLOUT_NOT_FOUND' : 'ROLLBACK_NOTHING', 'no rollout to roll back');
    const enrolled = new Set((await this.store.sites.list({ state: 'enrolled' })).map((s) => s.id));
    const reached = (await this.store.rollouts.sites(target.id)).filter((s) => s.generation !== null && enrolled.has(s.siteId));
    if (!reached.length) throw new HubError('ROLLBACK_NOTHING', `rollout ${target.id} reached no site`);
    const sites: { siteId: string; stage: number; policyVersion: number }[] = [];
    for (const s of reached) {
      sites.push({ siteId: s.siteId, stage: 0, policyVersion: (await this.store.rollouts.bundleBefore(s.siteId, s.generation!))?.policyVersion ?? 0 });
    }
    const id = await this.store.tx(async (tx) => {
      const t = this.now();
      for (const r of await this.liveRollouts(tx)) {
        await tx.rollouts.update(r.id, { state: r.id === target.id ? 'rolled-back' : 'superseded', reason: `rollback by ${actor}`, updatedAt: t });
      }
      if (!(LIVE as readonly string[]).includes(target.state)) await tx.rollouts.update(target.id, { state: 'rolled-back', updatedAt: t });
      const rid = await tx.rollouts.create(
        {
          kind: 'rollback',
          policyVersion: sites[0].policyVersion,
          selector: target.selector,
          stages: [{ name: 'all', percent: 100 }],
          auditWindowS: 0,
          state: 'running',
          stage: 0,
          stageAckedAt: null,
          reason: `rollback of rollout ${target.id}`,
          createdBy: actor,
          createdAt: t,
          updatedAt: t,
        },
        sites,
      );
      await tx.audit.record({ at: t, actor, action: 'rollout.rollback', target: `rollout/${target.id}`, details: { rollback: rid, sites: sites.length } });
      return rid;
    });
    await this.tick(id);
    return (await this.store.rollouts.get(id))!;
  }

  /** Holds a running rollout: nothing more is published and no stage passes until resumed. */
  async pause(id: number, actor: string): Promise<RolloutRecord> {
    return this.hold(id, 'running', 'paused', 'rollout.pause', actor);
  }

  /** Resumes a paused rollout where it stopped. */
  async unpause(id: number, actor: string): Promise<RolloutRecord> {
    const r = await this.hold(id, 'paused', 'running', 'rollout.resume', actor);
    await this.tick(id);
    return (await this.store.rollouts.get(id)) ?? r;
  }

  private async hold(id: number, from: 'running' | 'paused', to: 'running' | 'paused', action: string, actor: string): Promise<RolloutRecord> {
    const r = await this.store.tx(async (tx) => {
      const cur = await tx.rollouts.get(id);
      if (!cur) throw new HubError('ROLLOUT_NOT_FOUND', `no rollout ${id}`);
      if (cur.state !== from && from === 'running') throw new HubError('ROLLOUT_NOT_RUNNING', `rollout ${id} is ${cur.state}: only a running rollout pauses`);
      if (cur.state !== from) throw new HubError('ROLLOUT_NOT_PAUSED', `rollout ${id} is ${cur.state}: only a paused rollout resumes`);
      const t = this.now();
      await tx.rollouts.update(id, { state: to, reason: to === 'paused' ? `paused by ${actor}` : null, updatedAt: t });
      await tx.audit.record({ at: t, actor, action, target: `rollout/${id}`, details: { stage: cur.stage } });
      return (await tx.rollouts.get(id))!;
    });
    this.changes.emit('change', id);
    return r;
  }

  private async liveRollouts(tx: StoreRepos): Promise<RolloutRecord[]> {
    const out: RolloutRecord[] = [];
    for (const state of LIVE) out.push(...(await tx.rollouts.list({ state, limit: 1000 })));
    return out;
  }

  async status(id: number): Promise<RolloutStatus> {
    const rollout = await this.store.rollouts.get(id);
    if (!rollout) throw new HubError('ROLLOUT_NOT_FOUND', `no rollout ${id}`);
    const sites = await this.store.rollouts.sites(id);
    return {
      rollout,
      stages: rollout.stages.map((s, index) => {
        const st = sites.filter((x) => x.stage === index);
        const applied = st.filter((x) => x.result === 'applied').length;
        const rejected = st.filter((x) => x.result === 'rejected').length;
        return { index, name: s.name, sites: st, applied, rejected, pending: st.length - applied - rejected };
      }),
    };
  }

  /**
   * An ack from a site: queued, and written with every other ack of this turn of the event loop in
   * one transaction (a stage of thousands of sites answers within a second: one commit per ack cost
   * more than everything else in a push). The rollouts waiting for them then move on. An ack lost to
   * a crash in between is recovered like any lost ack: the next heartbeat reports the generation.
   *
   * Past one hub every replica hears every ack (one broker for all). An ack keyed by the agent's
   * outbox sequence (`device` and `ack.seq`) is recorded by whichever replica commits it first: its
   * (site, device, seq) key goes in with it in the same transaction, so the others find it taken and
   * drop theirs; nothing waits for the rollout leader, which sees the progress in the store. An ack
   * without a sequence (an older agent) cannot be told from a copy: only the leader records it.
   */
  async onAck(siteId: string, ack: AckMessage, device?: string): Promise<void> {
    this.pendingAcks.push({ siteId, ack, device, receivedAt: this.now() });
    // A short window gathers a burst into one transaction and one step over the rollout: a stage of
    // 10 000 sites answers within a second or two, and each step counts the stage in SQL.
    if (this.pendingAcks.length === 1) setTimeout(() => void this.flushAcks(), ACK_FLUSH_MS);
  }

  /** Called once per ack dropped as already recorded (by this replica or another): a metric. */
  onDuplicateAck: () => void = () => {};

  private async flushAcks(): Promise<void> {
    const batch = this.pendingAcks.splice(0);
    if (this.stopped || !batch.length) return;
    const keyed = batch.filter((a) => a.device !== undefined && a.ack.seq !== undefined);
    const unkeyed = this.lease.isLeader() ? batch.filter((a) => a.device === undefined || a.ack.seq === undefined) : [];
    const record = ({ siteId, ack, receivedAt }: (typeof batch)[number]): AckRecord => ({
      siteId,
      generation: ack.generation,
      result: ack.result,
      code: ack.code ?? null,
      reason: ack.reason ?? null,
      at: ack.at,
      receivedAt,
    });
    try {
      const touched = await this.store.tx(async (tx) => {
        // A few statements for the whole burst, whatever its size (on PostgreSQL, a few round trips).
        const fresh = await tx.telemetry.ingestKeys(
          keyed.map(({ siteId, ack, device }) => ({ siteId, device: device!, seq: ack.seq!, type: 'ack', at: ack.at })),
          batch[0].receivedAt,
        );
        for (const f of fresh) if (!f) this.onDuplicateAck();
        const ids = await tx.rollouts.recordAcks(keyed.filter((_, i) => fresh[i]).map(record));
        if (unkeyed.length) {
          await this.fence(tx);
          ids.push(...(await tx.rollouts.recordAcks(unkeyed.map(record))));
        }
        return ids;
      });
      for (const id of new Set(touched)) {
        this.changes.emit('change', id);
        this.schedule(id);
      }
    } catch (err) {
      this.log.error({ err: errorMessage(err), acks: batch.length }, 'recording acks failed; heartbeats will confirm the applied generations');
    }
  }

  /** A heartbeat's applied generation confirms bundles whose ack was lost (e.g. across a hub restart). */
  async onAppliedGeneration(siteId: string, applied: number): Promise<void> {
    if (!this.lease.isLeader()) return;
    const pending = (await this.store.rollouts.pendingForSite(siteId)).filter((p) => p.generation! <= applied);
    if (!pending.length) return;
    const t = this.now();
    const touched = await this.store.tx(async (tx) => {
      await this.fence(tx);
      const ids: number[] = [];
      for (const p of pending) ids.push(...(await tx.rollouts.recordAck(siteId, p.generation!, 'applied', null, 'confirmed by heartbeat', t)));
      return ids;
    });
    for (const id of touched) {
      this.changes.emit('change', id);
      this.schedule(id);
    }
  }

  /**
   * Acks arrive in bursts (a stage of thousands of sites answers within a second): each only queues a
   * tick for the next turn of the event loop, so a burst costs a few steps over the rollout, not one
   * step per ack (that was quadratic in the stage size).
   */
  private schedule(id: number): void {
    if (this.stopped || this.scheduled.has(id)) return;
    this.scheduled.add(id);
    setImmediate(() => {
      this.scheduled.delete(id);
      if (this.stopped) return;
      this.tick(id).catch((err: Error) => this.log.error({ rollout: id, err: err.message }, 'rollout tick failed; the next periodic tick retries'));
    });
  }

  /**
   * A site that enrolled (or re-enrolled) after a rollout started joins the newest live rollout whose
   * selector covers it, in its last stage (the one that takes every targeted site): the policy the
   * fleet is on. Once that stage is reached (or the rollout completed), the site's bundle is recorded
   * and published by the same code as a stage's, and its ack lands on its row. No such rollout: nothing
   * is published and the site stays default-allow. Failures are logged, not thrown: enrollment stands,
   * and the agent's retry (or the next tick) publishes again.
   */
  async onEnrolled(site: SiteRecord): Promise<void> {
    const target = joinTarget(await this.store.rollouts.list({ limit: 1000 }), site);
    if (!target) return;
    const { rollout: r, stage } = target;
    // A rollback's rows carry each site's own previous version; a newcomer takes the rollback's.
    if (await this.store.rollouts.join(r.id, site.id, stage, r.policyVersion)) {
      // The stage may be marked all-published in this process: it holds one more site now.
      this.published.get(r.id)?.stages.delete(stage);
      this.log.info({ rollout: r.id, site: site.id, policyVersion: r.policyVersion }, 'enrolled site joins the rollout');
    }
    try {
      if (r.state === 'running') await this.tick(r.id);
      else
        await this.publishStage(
          r.id,
          unsent(
            (await this.store.rollouts.sites(r.id)).filter((s) => s.siteId === site.id),
            new Set(),
          ),
          new Set(),
          // A completed rollout's newcomer: any hub may record and publish it (its generation is the store's).
          false,
        );
    } catch (err) {
      this.log.warn({ rollout: r.id, site: site.id, err: errorMessage(err) }, 'publishing the enrolled site its bundle failed');
    }
  }

  private async supersedeRunning(tx: StoreRepos, force: boolean, actor: string): Promise<void> {
    const running = await this.liveRollouts(tx);
    if (running.length && !force) {
      throw new HubError('ROLLOUT_IN_PROGRESS', `rollout ${running.map((r) => r.id).join(', ')} is ${running[0].state}: wait, roll it back, or force`, {
        running: running.map((r) => r.id),
      });
    }
    for (const r of running) await tx.rollouts.update(r.id, { state: 'superseded', reason: `superseded by ${actor}`, updatedAt: this.now() });
  }

  async tick(id: number): Promise<void> {
    // A follower leaves rollouts to the lease holder (a rollout created here is picked up by its resume).
    if (!this.lease.isLeader()) return;
    // One tick per rollout at a time: acks arrive concurrently, and publishing is async.
    if (this.busy.has(id)) {
      this.again.add(id);
      return;
    }
    this.busy.add(id);
    try {
      do {
        this.again.delete(id);
        while (await this.step(id));
      } while (this.again.has(id));
    } finally {
      this.busy.delete(id);
    }
  }

  /**
   * One step: read (load), decide (nextStep), write (save), then publish and log. True when a stage
   * passed and the next one should be stepped at once. The store is read in one place and written in
   * one, so an async store changes these two calls, not the decisions.
   */
  private async step(id: number): Promise<boolean> {
    const t = this.now();
    const loaded = await this.load(id);
    if (!loaded) {
      this.published.delete(id);
      return false;
    }
    const mine = this.published.get(id) ?? { bundles: new Set<string>(), stages: new Set<number>() };
    const next = nextStep(loaded.prev, { ...loaded.input, now: t, sent: mine.bundles }, loaded.config);
    await this.save(id, loaded.prev, next, t);
    if (next.state.state !== 'running') {
      this.published.delete(id);
    } else {
      this.published.set(id, mine);
      const publish = next.actions.find((a) => a.kind === 'publish');
      const allOut = publish ? await this.publishStage(id, publish.sites, mine.bundles) : true;
      // Every bundle of the stage went out (or was acked): later steps over it only count acks.
      if (allOut && loaded.input.rows) mine.stages.add(loaded.prev.stage);
    }
    this.changes.emit('change', id);
    for (const a of next.actions) {
      if (a.kind === 'halt') this.log.warn({ rollout: id, reason: a.reason }, 'rollout failed');
      else if (a.kind === 'stage-passed') this.log.info({ rollout: id, stage: a.stage, done: false }, 'rollout stage passed');
      else if (a.kind === 'complete') this.log.info({ rollout: id, stage: a.stage, done: true }, 'rollout completed');
    }
    return next.again;
  }

  /**
   * What a step needs, read in one transaction: the rollout, its first rejection, the current stage's
   * counts, and that stage's rows unless this process already sent every bundle of it.
   */
  private load(id: number): Promise<{ prev: RolloutProgress; input: Omit<RolloutInput, 'now' | 'sent'>; config: RolloutConfig } | undefined> {
    return this.store.tx(async (tx) => {
      const r = await tx.rollouts.get(id);
      if (!r) return undefined;
      const rows = this.published.get(id)?.stages.has(r.stage) ? null : await tx.rollouts.liveSites(id, r.stage);
      return {
        prev: { state: r.state, stage: r.stage, stageAckedAt: r.stageAckedAt, reason: r.reason },
        input: { rejected: (await tx.rollouts.firstRejected(id)) ?? null, ...(await tx.rollouts.stageCounts(id, r.stage)), rows },
        config: { stageCount: r.stages.length, auditWindowS: r.auditWindowS },
      };
    });
  }

  /** Writes a step's progress with its audit entry in one transaction; nothing when nothing changed. */
  private async save(id: number, prev: RolloutProgress, next: RolloutStep, at: number): Promise<void> {
    const s = next.state;
    if (s.state === prev.state && s.stage === prev.stage && s.stageAckedAt === prev.stageAckedAt && s.reason === prev.reason) return;
    await this.store.tx(async (tx) => {
      await this.fence(tx);
      await tx.rollouts.update(id, { ...s, updatedAt: at });
      for (const a of next.actions) {
        const target = `rollout/${id}`;
        if (a.kind === 'halt') await tx.audit.record({ at, actor: 'hub', action: 'rollout.failed', target, details: { reason: a.reason } });
        else if (a.kind === 'stage-passed') await tx.audit.record({ at, actor: 'hub', action: 'rollout.stage', target, details: { stage: a.stage } });
        else if (a.kind === 'complete') await tx.audit.record({ at, actor: 'hub', action: 'rollout.completed', target, details: { stage: a.stage } });
      }
    });
  }

  /**
   * Publishes the bundles of these rows (chosen by nextStep or unsent()): the recorded one again when
   * it is still the site's latest, else a new generation recorded first. True when every one went out
   * (false: the next tick retries).
   */
  private async publishStage(rolloutId: number, rows: readonly RolloutSite[], published: Set<string>, fenced = true): Promise<boolean> {
    const due: BundleRecord[] = [];
    const fresh = new Map<number, SiteRecord[]>();
    // Read once for the whole stage, not once per site.
    const recorded = rows.some((s) => s.generation !== null);
    const latest = recorded ? new Map((await this.store.rollouts.latestBundles()).map((b) => [b.siteId, b])) : new Map<string, BundleRecord>();
    const sites = new Map((await this.store.sites.list({ state: 'enrolled' })).map((s) => [s.id, s]));
    for (const s of rows) {
      const b = latest.get(s.siteId);
      if (b && s.generation !== null && b.generation === s.generation) {
        due.push(b);
        continue;
      }
      const site = sites.get(s.siteId);
      // Revoked since the rows were read: nothing to send.
      if (!site) continue;
      // Not yet recorded, or a newer generation was published since (by a superseded rollout): record
      // anew, grouped by policy version (a rollback sends each site back to its own previous version).
      const list = fresh.get(s.policyVersion) ?? [];
      list.push(site);
      fresh.set(s.policyVersion, list);
    }
    for (const [version, group] of fresh) {
      due.push(
        ...(await this.bundles.recordMany(group, version, rolloutId, async (tx, bs) => {
          if (fenced) await this.fence(tx);
          await tx.rollouts.markPublishedMany(rolloutId, bs, bs[0].createdAt);
        })),
      );
    }
    // In parallel: QoS 1 waits for each PUBACK, and a stage may hold thousands of sites.
    const sent = await Promise.all(
      due.map(async (b) => {
        try {
          await this.bundles.publish(b);
          published.add(sentKey(b.siteId, b.generation));
          return true;
        } catch (e) {
          // The broker is down or closing: the next tick republishes.
          this.log.warn({ rollout: rolloutId, site: b.siteId, err: errorMessage(e) }, 'bundle publish failed; will retry');
          return false;
        }
      }),
    );
    return sent.every(Boolean);
  }
}
