// What-if before a rollout: the sites a rollout would target, the flows recorded there over a window,
// and the policy core's whatIf() with each site's policies of today (its latest bundle's version) and
// of the candidate version, each narrowed to what that site's bundle would carry (weft.dev/sites).
// The inventory is what the two versions' pushes carried (Namespaces, Pods, workloads): the hub
// knows no other labels.
import { loadPolicies, type Policies, type RecordedFlow, type WhatIfResult, whatIf, withEndpoints } from '../../policy/index.ts';
import type { Protocol } from '../../policy/index.ts';
import { HubError } from '../errors.ts';
import type { HubStore, LabelSelector } from '../store/types.ts';
import { matches } from './selector.ts';
import { PolicySets } from './site-policies.ts';

export interface WhatIfRequest {
  version: number;
  selector: LabelSelector;
  windowMs: number;
  /** Most flows read per site (newest first). */
  perSiteLimit?: number;
}

export interface WhatIfAnswer extends WhatIfResult {
  version: number;
  sites: number;
  flows: number;
  since: string;
  until: string;
}

const PROTOCOLS: Record<number, Protocol> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

/** Recorded verdict rows of the window, one per distinct (site, endpoint, side, peer, port), counted. */
async function recordedFlows(store: HubStore, siteIds: string[], since: number, until: number, limit: number): Promise<RecordedFlow[]> {
  const out = new Map<string, RecordedFlow>();
  for (const siteId of siteIds) {
    for (const r of await store.telemetry.flows({ siteId, since, until, limit })) {
      const protocol = PROTOCOLS[r.proto];
      if (!protocol) continue;
      const peer = r.direction === 'ingress' ? r.src : r.dst;
      const k = `${siteId}|${r.endpoint}|${r.direction}|${peer}|${protocol}|${r.dport}`;
      const f = out.get(k);
      if (f) f.count += r.count;
      else out.set(k, { siteId, endpoint: r.endpoint, direction: r.direction, peer, protocol, port: r.dport, count: r.count });
    }
  }
  return [...out.values()];
}

export async function whatIfRollout(store: HubStore, req: WhatIfRequest, now: number): Promise<WhatIfAnswer> {
  const next = req.version === 0 ? { objects: [] as unknown[] } : await store.policies.get(req.version);
  if (!next) throw new HubError('POLICY_VERSION_NOT_FOUND', `no policy version ${req.version}`);
  const sites = (await store.sites.list({ state: 'enrolled' })).filter((s) => matches(req.selector, s.labels));
  if (!sites.length) throw new HubError('ROLLOUT_NO_SITES', 'no enrolled site matches the selector');
  const since = now - req.windowMs;
  const flows = await recordedFlows(
    store,
    sites.map((s) => s.id),
    since,
    now,
    req.perSiteLimit ?? 5000,
  );
  const endpoints = new Set(flows.map((f) => f.endpoint));

  // The version each site runs today, and the objects of every version involved, read before the pure part.
  const todayVersion = new Map<string, number>();
  for (const s of sites) todayVersion.set(s.id, (await store.rollouts.latestBundle(s.id))?.policyVersion ?? 0);
  const objectsOf = new Map<number, unknown[]>([[req.version, next.objects]]);
  for (const v of new Set(todayVersion.values())) if (!objectsOf.has(v)) objectsOf.set(v, v === 0 ? [] : ((await store.policies.get(v))?.objects ?? []));

  // One PolicySets per version (the candidate, and each version a site runs today), one load per distinct set.
  const versions = new Map<number, PolicySets>();
  const inventories: unknown[] = [...next.objects];
  const setsOf = (v: number): PolicySets => {
    let s = versions.get(v);
    if (!s) {
      const objs = objectsOf.get(v) ?? [];
      if (v !== req.version) inventories.push(...objs);
      versions.set(v, (s = new PolicySets(objs)));
    }
    return s;
  };
  setsOf(req.version);
  for (const v of new Set(todayVersion.values())) setsOf(v);
  const inventory = withEndpoints(loadPolicies(inventories.filter(isInventory)).inventory, endpoints);
  const loaded = new Map<unknown[], Policies>();
  const policiesOf = (objs: unknown[]): Policies => {
    let p = loaded.get(objs);
    if (!p) loaded.set(objs, (p = { policies: loadPolicies(objs).policies, inventory }));
    return p;
  };
  const byId = new Map(sites.map((s) => [s.id, s]));
  const result = whatIf(
    flows,
    (id) => policiesOf(setsOf(todayVersion.get(id) ?? 0).forSite(byId.get(id)!)),
    (id) => policiesOf(setsOf(req.version).forSite(byId.get(id)!)),
  );
  return {
    version: req.version,
    sites: sites.length,
    flows: flows.length,
    since: new Date(since).toISOString(),
    until: new Date(now).toISOString(),
    ...result,
  };
}

const INVENTORY_KINDS = new Set(['Namespace', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'ReplicationController']);
function isInventory(o: unknown): boolean {
  return typeof o === 'object' && o !== null && INVENTORY_KINDS.has(String((o as { kind?: unknown }).kind));
}
