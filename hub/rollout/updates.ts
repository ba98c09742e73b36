// Agent update rollouts: releases held by the hub, rolled out in stages with the same decisions as
// policy rollouts (state-machine.ts nextStep, unchanged). To it, an update is a rollout whose
// "bundle" is the retained order on site/<id>/update and whose "ack" is the site's report of how the
// update ended (blessed: applied; rolled back or refused: rejected, with the agent's code and reason).
// So a failed canary halts the rollout by itself, and a stage passes only when each of its sites
// reported its new agent blessed by its own health gate. The order's generation key for nextStep's
// `sent` is the rollout id: one order per site per rollout.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { checkArtifact, checkHubVersion, encode, readRelease, ReleaseError, topics, type ReleaseManifest, type UpdateReport } from '../../protocol/index.ts';
import { HubError } from '../errors.ts';
import type { HubStore, LabelSelector, ReleaseRecord, RolloutSite, StageSpec, UpdateRolloutRecord, UpdateSite } from '../store/types.ts';
import type { Publisher } from './bundles.ts';
import { planStages } from './plan.ts';
import { matches } from './selector.ts';
import { nextStep, sentKey, type RolloutInput } from './state-machine.ts';

export interface UpdateRequest {
  version: string;
  selector: LabelSelector;
  stages: StageSpec[];
  deadlineS: number;
}

export interface UpdateStatus {
  rollout: UpdateRolloutRecord;
  stages: { index: number; name: string; sites: UpdateSite[]; blessed: number; failed: number; pending: number }[];
}

/** An update site row as the policy rollout's decision reads a site row. */
function asRolloutSite(u: UpdateSite): RolloutSite {
  return {
    rolloutId: u.rolloutId,
    siteId: u.siteId,
    stage: u.stage,
    policyVersion: 0,
    generation: u.rolloutId,
    publishedAt: u.publishedAt,
    result: u.result === 'blessed' ? 'applied' : u.result === 'failed' ? 'rejected' : null,
    code: u.code,
    reason: u.reason,
    ackedAt: u.reportedAt,
  };
}

const LIVE = new Set(['running', 'paused']);

export class UpdateService {
  /** Orders this process published, as sentKey(site, rolloutId). */
  private readonly sent = new Set<string>();

  constructor(
    private readonly store: HubStore,
    private readonly publisher: Publisher,
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly o: { hubVersion: string; releaseDir: string; publicUrl: () => string },
  ) {}

  /** Takes a signed release manifest (the bytes follow with putArtifact). The agents verify the signature; the hub reads it. */
  async upload(signed: unknown, actor: string): Promise<ReleaseRecord> {
    let m: ReleaseManifest;
    try {
      m = readRelease(signed);
    } catch (e) {
      if (e instanceof ReleaseError) throw new HubError('BAD_REQUEST', `release manifest: ${e.message}`, { code: e.code });
      throw e;
    }
    if (await this.store.updates.release(m.version, m.kind)) throw new HubError('RELEASE_EXISTS', `release ${m.version} (${m.kind}) is already uploaded`);
    const r: ReleaseRecord = {
      version: m.version,
      kind: m.kind,
      signed: JSON.stringify(signed),
      sha256: m.sha256,
      size: m.size,
      minHubVersion: m.minHubVersion,
      complete: false,
      uploadedBy: actor,
      uploadedAt: this.now(),
    };
    await this.store.updates.addRelease(r);
    await this.store.audit.record({
      at: r.uploadedAt,
      actor,
      action: 'release.upload',
      target: `release/${m.version}/${m.kind}`,
      details: { sha256: m.sha256, size: m.size },
    });
    return r;
  }

  artifactPath(r: Pick<ReleaseRecord, 'version' | 'signed'>): string {
    return join(this.o.releaseDir, r.version, (JSON.parse(JSON.parse(r.signed).payload) as ReleaseManifest).file);
  }

  /** Streams the artifact's bytes in, checked against the manifest before it is kept. */
  async putArtifact(version: string, kind: ReleaseRecord['kind'], body: Readable): Promise<ReleaseRecord> {
    const r = await this.release(version, kind);
    const m = readRelease(JSON.parse(r.signed));
    const dest = this.artifactPath(r);
    mkdirSync(join(this.o.releaseDir, version), { recursive: true, mode: 0o700 });
    const h = createHash('sha256');
    let size = 0;
    body.on('data', (c: Buffer) => {
      h.update(c);
      size += c.length;
    });
    await pipeline(body, createWriteStream(`${dest}.part`, { mode: 0o644 }));
    try {
      checkArtifact(m, { sha256: h.digest('hex'), size });
    } catch (e) {
      rmSync(`${dest}.part`, { force: true });
      throw new HubError('RELEASE_MISMATCH', (e as Error).message, { code: (e as ReleaseError).code });
    }
    renameSync(`${dest}.part`, dest);
    await this.store.updates.markReleaseComplete(version, kind);
    return { ...r, complete: true };
  }

  async release(version: string, kind: ReleaseRecord['kind']): Promise<ReleaseRecord> {
    const r = await this.store.updates.release(version, kind);
    if (!r) throw new HubError('RELEASE_NOT_FOUND', `no ${kind} release ${version}`);
    return r;
  }

  async create(req: UpdateRequest, actor: string): Promise<UpdateRolloutRecord> {
    const rel = await this.release(req.version, 'agent');
    if (!rel.complete) throw new HubError('RELEASE_INCOMPLETE', `release ${req.version}: its artifact was not uploaded yet`);
    try {
      checkHubVersion(readRelease(JSON.parse(rel.signed)), this.o.hubVersion);
    } catch (e) {
      if (e instanceof ReleaseError) throw new HubError('RELEASE_HUB_TOO_OLD', e.message);
      throw e;
    }
    if ((await this.store.updates.list(50)).some((r) => LIVE.has(r.state)))
      throw new HubError('ROLLOUT_IN_PROGRESS', 'an update rollout is already running or paused');
    const targets = (await this.store.sites.list({ state: 'enrolled' })).filter((s) => matches(req.selector, s.labels)).map((s) => s.id);
    if (!targets.length) throw new HubError('ROLLOUT_NO_SITES', 'no enrolled site matches the selector');
    const plan = planStages(targets, req.stages);
    const t = this.now();
    const id = await this.store.updates.create(
      {
        version: req.version,
        kind: 'agent',
        selector: req.selector,
        stages: plan.stages,
        state: 'running',
        stage: 0,
        stageAckedAt: null,
        reason: null,
        deadlineS: req.deadlineS,
        createdBy: actor,
        createdAt: t,
        updatedAt: t,
      },
      plan.assignment,
    );
    await this.store.audit.record({ at: t, actor, action: 'update.start', target: `update/${id}`, details: { ...req, sites: targets.length } });
    await this.tick(id);
    return (await this.store.updates.get(id)) as UpdateRolloutRecord;
  }

  /** One step of the shared decision (nextStep) and what it asks for. */
  async tick(id: number): Promise<void> {
    for (let again = true; again; ) {
      const r = await this.store.updates.get(id);
      if (!r) return;
      const rows = await this.store.updates.sites(id);
      const enrolled = new Set((await this.store.sites.list({ state: 'enrolled' })).map((s) => s.id));
      const live = rows.filter((s) => enrolled.has(s.siteId));
      const failed = live.filter((s) => s.result === 'failed').sort((a, b) => (a.reportedAt ?? 0) - (b.reportedAt ?? 0))[0];
      const stageRows = live.filter((s) => s.stage === r.stage);
      const input: RolloutInput = {
        now: this.now(),
        rejected: failed ? { siteId: failed.siteId, generation: id, code: failed.code, reason: failed.reason } : null,
        stageApplied: stageRows.every((s) => s.result === 'blessed'),
        rows: stageRows.map(asRolloutSite),
        sent: this.sent,
      };
      const step = nextStep({ state: r.state, stage: r.stage, stageAckedAt: r.stageAckedAt, reason: r.reason }, input, {
        stageCount: r.stages.length,
        auditWindowS: 0,
      });
      again = step.again;
      for (const a of step.actions) {
        if (a.kind === 'publish') await this.publish(r, a.sites);
        else if (a.kind === 'halt' && failed) {
          step.state.reason = `site ${failed.siteId} failed the update to ${r.version}: ${failed.code ?? ''} ${failed.reason ?? ''}`.trim();
          this.log.warn({ update: id, reason: step.state.reason }, 'update rollout halted');
        } else if (a.kind !== 'halt') this.log.info({ update: id, stage: a.stage, action: a.kind }, 'update rollout moved on');
      }
      if (step.state.state !== r.state || step.state.stage !== r.stage || step.state.stageAckedAt !== r.stageAckedAt || step.state.reason !== r.reason) {
        await this.store.updates.update(id, { ...step.state, updatedAt: this.now() });
      }
    }
  }

  private async publish(r: UpdateRolloutRecord, sites: RolloutSite[]): Promise<void> {
    const rel = await this.release(r.version, r.kind);
    const url = `${this.o.publicUrl()}/v1/releases/${encodeURIComponent(r.version)}/${r.kind}/artifact`;
    const msg = encode('update', { v: 1, rolloutId: r.id, release: JSON.parse(rel.signed), url, deadlineS: r.deadlineS });
    for (const s of sites) {
      await this.publisher.publish(topics.update(s.siteId), msg, { qos: 1, retain: true });
      this.sent.add(sentKey(s.siteId, r.id));
      await this.store.updates.markPublished(r.id, s.siteId, this.now());
    }
  }

  /** A site said how its update ended (events of type 'update'). */
  async onReport(siteId: string, rep: UpdateReport): Promise<void> {
    const touched = await this.store.updates.recordReport(siteId, { ...rep, code: rep.code ?? null, reason: rep.reason ?? null }, this.now());
    this.log.info({ site: siteId, ...rep }, 'site update report');
    if (touched) await this.tick(rep.rolloutId);
  }

  async setState(id: number, from: 'running' | 'paused', to: 'running' | 'paused', actor: string): Promise<UpdateRolloutRecord> {
    const r = await this.store.updates.get(id);
    if (!r) throw new HubError('ROLLOUT_NOT_FOUND', `no update rollout ${id}`);
    if (r.state !== from) throw new HubError(from === 'running' ? 'ROLLOUT_NOT_RUNNING' : 'ROLLOUT_NOT_PAUSED', `update rollout ${id} is ${r.state}`);
    await this.store.updates.update(id, { state: to, updatedAt: this.now() });
    await this.store.audit.record({ at: this.now(), actor, action: to === 'paused' ? 'update.pause' : 'update.resume', target: `update/${id}`, details: {} });
    if (to === 'running') await this.tick(id);
    return (await this.store.updates.get(id)) as UpdateRolloutRecord;
  }

  async status(id: number): Promise<UpdateStatus> {
    const r = await this.store.updates.get(id);
    if (!r) throw new HubError('ROLLOUT_NOT_FOUND', `no update rollout ${id}`);
    const rows = await this.store.updates.sites(id);
    return {
      rollout: r,
      stages: r.stages.map((s, index) => {
        const sites = rows.filter((x) => x.stage === index);
        return {
          index,
          name: s.name,
          sites,
          blessed: sites.filter((x) => x.result === 'blessed').length,
          failed: sites.filter((x) => x.result === 'failed').length,
          pending: sites.filter((x) => x.result === null).length,
        };
      }),
    };
  }
}
