// The store contract: one table of cases every HubStore backend must pass (SQLite in
// store.contract.test.ts, PostgreSQL in store-pg.kernel.test.ts). Each case gets a fresh, empty store.
import { expect } from 'vitest';
import type { HubStore, SiteSpec } from '../types.ts';

export const spec = (name: string, extra: Partial<SiteSpec> = {}): SiteSpec => ({
  name,
  labels: { region: 'eu' },
  lat: 1.5,
  lon: -2.25,
  clientCidrs: ['10.1.0.0/16'],
  capacity: 10,
  services: [{ name: 'pos', addresses: ['10.1.0.5'] }],
  ...extra,
});

async function enrolled(store: HubStore, id: string, overlayIndex: number): Promise<void> {
  await store.sites.create(id, spec(id), 1);
  await store.sites.update(id, { state: 'enrolled', enrolledAt: 2, overlayIndex });
}

const rolloutBase = {
  kind: 'rollout' as const,
  policyVersion: 1,
  selector: { matchLabels: { region: 'eu' } },
  stages: [
    { name: 'canary', sites: ['a'] },
    { name: 'all', percent: 100 },
  ],
  auditWindowS: 0,
  state: 'running' as const,
  stage: 0,
  stageAckedAt: null,
  reason: null,
  createdBy: 'ops',
  createdAt: 10,
  updatedAt: 10,
};

const verdict = (at: string, v: 'deny' | 'allow', name: string) => ({
  at,
  generation: 1,
  endpoint: 'shop/web',
  direction: 'ingress' as const,
  verdict: v,
  proto: 6,
  src: '10.0.0.1',
  dst: '10.0.0.2',
  sport: 1234,
  dport: 80,
  policy: { kind: 'NetworkPolicy', namespace: 'shop', name, rule: 'ingress[0]' },
});

export type ContractCase = [name: string, run: (store: HubStore) => Promise<void>];

export const CONTRACT: ContractCase[] = [
  [
    'sites: create, read back every field, filter, update, overlay indexes',
    async (s) => {
      const created = await s.sites.create('a', spec('a'), 100);
      expect(created).toEqual({
        id: 'a',
        ...spec('a'),
        state: 'pending',
        drained: false,
        identityKey: null,
        wireguardKey: null,
        overlayIndex: null,
        createdAt: 100,
        enrolledAt: null,
        revokedAt: null,
      });
      await enrolled(s, 'b', 7);
      await s.sites.update('a', { drained: true, identityKey: 'ik', wireguardKey: 'wk' });
      expect(await s.sites.byName('a')).toMatchObject({ id: 'a', drained: true, identityKey: 'ik', wireguardKey: 'wk' });
      expect(await s.sites.get('nope')).toBeUndefined();
      expect((await s.sites.list()).map((x) => x.id)).toEqual(['a', 'b']);
      expect((await s.sites.list({ state: 'enrolled' })).map((x) => x.id)).toEqual(['b']);
      expect(await s.sites.state('b')).toBe('enrolled');
      expect(await s.sites.state('nope')).toBeUndefined();
      expect(await s.sites.maxOverlayIndex()).toBe(7);
      expect([...(await s.sites.usedOverlayIndexes())]).toEqual([7]);
      await s.sites.update('b', { state: 'revoked', revokedAt: 9, overlayIndex: null });
      expect(await s.sites.maxOverlayIndex()).toBe(0);
    },
  ],
  [
    'sites: a second site with the same name or overlay index is refused',
    async (s) => {
      await enrolled(s, 'a', 3);
      await expect(s.sites.create('a2', spec('a'), 1)).rejects.toThrow();
      await s.sites.create('b', spec('b'), 1);
      await expect(s.sites.update('b', { overlayIndex: 3 })).rejects.toThrow();
    },
  ],
  [
    'sites: broker credentials are set, replaced and deleted',
    async (s) => {
      await s.sites.create('a', spec('a'), 1);
      expect(await s.sites.credentialHash('a')).toBeUndefined();
      await s.sites.setCredential('a', 'h1', 1);
      await s.sites.setCredential('a', 'h2', 2);
      expect(await s.sites.credentialHash('a')).toBe('h2');
      await s.sites.deleteCredential('a');
      expect(await s.sites.credentialHash('a')).toBeUndefined();
    },
  ],
  [
    'tokens: an enrollment token is spent once; invalidation spends the rest',
    async (s) => {
      await s.sites.create('a', spec('a'), 1);
      await s.tokens.addEnrollToken({ hash: 'e1', siteId: 'a', createdAt: 1, expiresAt: 99, usedAt: null, createdBy: 'ops' });
      await s.tokens.addEnrollToken({ hash: 'e2', siteId: 'a', createdAt: 1, expiresAt: 99, usedAt: null, createdBy: 'ops' });
      expect(await s.tokens.enrollToken('e1')).toEqual({
        hash: 'e1',
        siteId: 'a',
        createdAt: 1,
        expiresAt: 99,
        usedAt: null,
        forNodes: false,
        maxUses: 1,
        uses: 0,
      });
      expect(await s.tokens.useEnrollToken('e1', 5)).toBe(true);
      expect(await s.tokens.useEnrollToken('e1', 6)).toBe(false);
      expect((await s.tokens.enrollToken('e1'))?.usedAt).toBe(5);
      await s.tokens.invalidateSiteTokens('a', 7);
      expect((await s.tokens.enrollToken('e2'))?.usedAt).toBe(7);
      expect(await s.tokens.enrollToken('nope')).toBeUndefined();
    },
  ],
  [
    'tokens: enrollment challenges are capped, expire, and are spent once',
    async (s) => {
      expect(await s.tokens.addChallenge('c1', 100, 0, 2)).toBe(true);
      expect(await s.tokens.addChallenge('c2', 50, 0, 2)).toBe(true);
      expect(await s.tokens.addChallenge('c3', 100, 0, 2)).toBe(false);
      expect(await s.tokens.hasChallenge('c1', 10)).toBe(true);
      expect(await s.tokens.hasChallenge('c2', 50)).toBe(false);
      // Expired ones are dropped to make room.
      expect(await s.tokens.addChallenge('c3', 200, 60, 2)).toBe(true);
      expect(await s.tokens.useChallenge('c1', 70)).toBe(true);
      expect(await s.tokens.useChallenge('c1', 71)).toBe(false);
      expect(await s.tokens.useChallenge('c3', 200)).toBe(false);
    },
  ],
  [
    'sites: devices, WireGuard key holders, pending credentials promoted on first use',
    async (s) => {
      await enrolled(s, 'a', 2);
      await s.sites.update('a', { identityKey: 'id-a', wireguardKey: 'wg' });
      await s.sites.create('b', spec('b'), 1);
      await s.sites.update('b', { wireguardKey: 'wg' });
      expect(await s.sites.enrolledDevice('a')).toBe('id-a');
      expect(await s.sites.enrolledDevice('b')).toBeUndefined();
      expect(await s.sites.holdersOfWireguardKey('wg', 'c')).toEqual(['a', 'b']);
      expect(await s.sites.holdersOfWireguardKey('wg', 'a')).toEqual(['b']);
      await s.sites.update('b', { state: 'revoked' });
      expect(await s.sites.holdersOfWireguardKey('wg', 'a')).toEqual([]);
      await s.sites.setCredential('a', 'old', 1);
      await s.sites.setPendingCredential('a', 'new');
      expect([await s.sites.credentialHash('a'), await s.sites.pendingCredentialHash('a')]).toEqual(['old', 'new']);
      await s.sites.promoteCredential('a', 5);
      expect([await s.sites.credentialHash('a'), await s.sites.pendingCredentialHash('a')]).toEqual(['new', undefined]);
      await s.sites.setPendingCredential('a', 'newer');
      await s.sites.setCredential('a', 'reset', 6);
      expect(await s.sites.pendingCredentialHash('a')).toBeUndefined();
    },
  ],
  [
    'tokens: API tokens by hash, listed oldest first, revoked once',
    async (s) => {
      await s.tokens.addApiToken({ id: 't2', name: 'ci', role: 'operator', hash: 'h2', createdAt: 2, revokedAt: null, expiresAt: 99 });
      await s.tokens.addApiToken({ id: 't1', name: 'ops', role: 'admin', hash: 'h1', createdAt: 1, revokedAt: null, expiresAt: null });
      expect(await s.tokens.apiTokenByHash('h2')).toEqual({ id: 't2', name: 'ci', role: 'operator', createdAt: 2, revokedAt: null, expiresAt: 99 });
      expect(await s.tokens.apiToken('t1')).toEqual({ id: 't1', name: 'ops', role: 'admin', createdAt: 1, revokedAt: null, expiresAt: null });
      expect(await s.tokens.apiToken('nope')).toBeUndefined();
      expect((await s.tokens.listApiTokens()).map((t) => t.id)).toEqual(['t1', 't2']);
      expect(await s.tokens.revokeApiToken('t2', 9)).toBe(true);
      expect(await s.tokens.revokeApiToken('t2', 10)).toBe(false);
      expect(await s.tokens.revokeApiToken('nope', 10)).toBe(false);
      expect((await s.tokens.apiTokenByHash('h2'))?.revokedAt).toBe(9);
      await expect(s.tokens.addApiToken({ id: 't3', name: 'x', role: 'viewer', hash: 'h1', createdAt: 3, revokedAt: null, expiresAt: null })).rejects.toThrow();
    },
  ],
  [
    'audit: newest first, filtered by target, details kept as JSON',
    async (s) => {
      await s.audit.record({ at: 1, actor: 'ops', action: 'site.create', target: 'site/a', details: { n: 1, deep: { x: [1, 'y'] } } });
      await s.audit.record({ at: 2, actor: 'ops', action: 'site.drain', target: 'site/b', details: {} });
      await s.audit.record({ at: 3, actor: 'hub', action: 'site.revoke', target: 'site/a', details: null });
      const all = await s.audit.list({ limit: 10 });
      expect(all.map((e) => e.action)).toEqual(['site.revoke', 'site.drain', 'site.create']);
      expect(all[2]).toMatchObject({ at: 1, actor: 'ops', target: 'site/a', details: { n: 1, deep: { x: [1, 'y'] } } });
      expect(all[0].details).toEqual({});
      expect((await s.audit.list({ target: 'site/a', limit: 1 })).map((e) => e.at)).toEqual([3]);
    },
  ],
  [
    'policies: versions count up from 1; latest and history newest first',
    async (s) => {
      expect(await s.policies.latest()).toBeUndefined();
      const v1 = await s.policies.add({ yaml: 'a: 1', objects: [{ kind: 'X' }], author: 'ops', message: 'first', createdAt: 1 });
      const v2 = await s.policies.add({ yaml: 'a: 2', objects: [], author: 'ops', message: 'second', createdAt: 2 });
      expect([v1, v2]).toEqual([1, 2]);
      expect(await s.policies.get(1)).toEqual({ version: 1, yaml: 'a: 1', objects: [{ kind: 'X' }], author: 'ops', message: 'first', createdAt: 1 });
      expect((await s.policies.latest())?.version).toBe(2);
      expect(await s.policies.history(10)).toEqual([
        { version: 2, author: 'ops', message: 'second', createdAt: 2 },
        { version: 1, author: 'ops', message: 'first', createdAt: 1 },
      ]);
      expect(await s.policies.get(3)).toBeUndefined();
    },
  ],
  [
    'rollouts: create, list, update, per-stage rows of enrolled sites, counts and rejections',
    async (s) => {
      for (const [id, i] of [
        ['a', 2],
        ['b', 3],
        ['c', 4],
      ] as const)
        await enrolled(s, id, i);
      const id = await s.rollouts.create(rolloutBase, [
        { siteId: 'a', stage: 0, policyVersion: 1 },
        { siteId: 'b', stage: 1, policyVersion: 1 },
        { siteId: 'c', stage: 1, policyVersion: 1 },
      ]);
      expect(await s.rollouts.get(id)).toEqual({ id, ...rolloutBase });
      expect((await s.rollouts.list({ state: 'running', limit: 5 })).map((r) => r.id)).toEqual([id]);
      expect(await s.rollouts.list({ state: 'completed', limit: 5 })).toEqual([]);
      await s.rollouts.update(id, { stage: 1, stageAckedAt: 20, updatedAt: 21 });
      expect(await s.rollouts.get(id)).toMatchObject({ stage: 1, stageAckedAt: 20, updatedAt: 21, state: 'running' });
      expect((await s.rollouts.sites(id)).map((r) => [r.stage, r.siteId])).toEqual([
        [0, 'a'],
        [1, 'b'],
        [1, 'c'],
      ]);
      await s.sites.update('c', { state: 'revoked' });
      expect((await s.rollouts.liveSites(id, 1)).map((r) => r.siteId)).toEqual(['b']);
      expect(await s.rollouts.stageApplied(id, 1)).toBe(false);
      await s.rollouts.markPublished(id, 'b', 1, 30);
      expect(await s.rollouts.recordAck('b', 1, 'applied', null, null, 31)).toEqual([id]);
      expect(await s.rollouts.stageApplied(id, 1)).toBe(true);
      expect(await s.rollouts.stageApplied(id, 0)).toBe(false);
      expect(await s.rollouts.firstRejected(id)).toBeUndefined();
      await s.rollouts.markPublished(id, 'a', 1, 30);
      expect(await s.rollouts.recordAck('a', 1, 'rejected', 'POLICY_X', 'bad', 32)).toEqual([id]);
      expect(await s.rollouts.firstRejected(id)).toMatchObject({ siteId: 'a', result: 'rejected', code: 'POLICY_X', reason: 'bad', ackedAt: 32 });
    },
  ],
  [
    'rollouts: acks land once on running or completed rollouts; pending rows, late joins',
    async (s) => {
      await enrolled(s, 'a', 2);
      const r1 = await s.rollouts.create(rolloutBase, [{ siteId: 'a', stage: 0, policyVersion: 1 }]);
      const r2 = await s.rollouts.create({ ...rolloutBase, state: 'superseded' }, [{ siteId: 'a', stage: 0, policyVersion: 1 }]);
      // A paused rollout still records acks.
      const r3 = await s.rollouts.create({ ...rolloutBase, state: 'paused' }, [{ siteId: 'a', stage: 0, policyVersion: 1 }]);
      await s.rollouts.markPublished(r3, 'a', 4, 1);
      expect(await s.rollouts.recordAck('a', 4, 'applied', null, null, 2)).toEqual([r3]);
      await s.rollouts.markPublished(r1, 'a', 5, 1);
      await s.rollouts.markPublished(r2, 'a', 5, 1);
      expect((await s.rollouts.pendingForSite('a')).map((p) => [p.rolloutId, p.generation])).toEqual([[r1, 5]]);
      expect(await s.rollouts.recordAck('a', 4, 'applied', null, null, 2)).toEqual([]);
      expect(await s.rollouts.recordAck('a', 5, 'applied', null, null, 2)).toEqual([r1]);
      expect(await s.rollouts.recordAck('a', 5, 'applied', null, null, 3)).toEqual([]);
      expect(await s.rollouts.pendingForSite('a')).toEqual([]);
      // Republishing resets the row's result.
      await s.rollouts.markPublished(r1, 'a', 6, 4);
      expect((await s.rollouts.sites(r1))[0]).toMatchObject({ generation: 6, publishedAt: 4, result: null, ackedAt: null });
      await enrolled(s, 'b', 3);
      expect(await s.rollouts.join(r1, 'b', 0, 1)).toBe(true);
      expect(await s.rollouts.join(r1, 'b', 0, 1)).toBe(false);
    },
  ],
  [
    'generations: monotonic per site, never reused after a rolled-back transaction',
    async (s) => {
      await s.sites.create('a', spec('a'), 1);
      expect(await s.rollouts.generation('a')).toBe(0);
      expect([await s.rollouts.nextGeneration('a'), await s.rollouts.nextGeneration('a')]).toEqual([1, 2]);
      await expect(
        s.tx(async (t) => {
          await t.rollouts.nextGeneration('a');
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await s.rollouts.generation('a')).toBe(2);
    },
  ],
  [
    'a stage in one statement: generations, bundles and published marks for many sites',
    async (s) => {
      for (const [id, i] of [
        ['a', 2],
        ['b', 3],
        ['c', 4],
      ] as const)
        await enrolled(s, id, i);
      expect(await s.rollouts.nextGeneration('b')).toBe(1);
      expect(await s.rollouts.nextGenerations([])).toEqual([]);
      expect(await s.tx((t) => t.rollouts.nextGenerations(['c', 'b', 'a']))).toEqual([1, 2, 1]);
      const id = await s.rollouts.create(rolloutBase, [
        { siteId: 'a', stage: 0, policyVersion: 1 },
        { siteId: 'b', stage: 0, policyVersion: 1 },
        { siteId: 'c', stage: 0, policyVersion: 1 },
      ]);
      const bundle = (siteId: string, generation: number) => ({
        siteId,
        generation,
        policyVersion: 1,
        rolloutId: id,
        bundle: `{"s":"${siteId}"}`,
        createdAt: 9,
      });
      await s.rollouts.addBundles([bundle('a', 1), bundle('b', 2)]);
      await s.rollouts.addBundles([]);
      expect(await s.rollouts.latestBundle('b')).toEqual(bundle('b', 2));
      await expect(s.rollouts.addBundles([bundle('c', 1), bundle('a', 1)])).rejects.toThrow();
      expect(await s.rollouts.latestBundle('c')).toBeUndefined();
      await s.rollouts.markPublishedMany(
        id,
        [
          { siteId: 'a', generation: 1 },
          { siteId: 'b', generation: 2 },
        ],
        30,
      );
      expect((await s.rollouts.sites(id)).map((r) => [r.siteId, r.generation, r.publishedAt])).toEqual([
        ['a', 1, 30],
        ['b', 2, 30],
        ['c', null, null],
      ]);
    },
  ],
  [
    'a burst of acks in a few statements: keys seen once, the first ack of a generation counts',
    async (s) => {
      await enrolled(s, 'a', 2);
      await enrolled(s, 'b', 3);
      const key = (siteId: string, seq: number) => ({ siteId, device: 'd1', seq, type: 'ack', at: '2026-01-01T00:00:00Z' });
      expect(await s.telemetry.ingestKeys([key('a', 1), key('b', 1), key('a', 1)], 5)).toEqual([true, true, false]);
      expect(await s.tx((t) => t.telemetry.ingestKeys([key('a', 1), key('a', 2)], 6))).toEqual([false, true]);
      expect(await s.telemetry.ingestKeys([], 6)).toEqual([]);
      const r1 = await s.rollouts.create(rolloutBase, [
        { siteId: 'a', stage: 0, policyVersion: 1 },
        { siteId: 'b', stage: 0, policyVersion: 1 },
      ]);
      await s.rollouts.markPublishedMany(
        r1,
        [
          { siteId: 'a', generation: 3 },
          { siteId: 'b', generation: 1 },
        ],
        1,
      );
      const ack = (siteId: string, generation: number, result: 'applied' | 'rejected', receivedAt: number) => ({
        siteId,
        generation,
        result,
        code: result === 'rejected' ? 'X' : null,
        reason: null,
        at: '2026-01-01T00:00:00Z',
        receivedAt,
      });
      expect(await s.tx((t) => t.rollouts.recordAcks([ack('a', 3, 'applied', 7), ack('a', 3, 'rejected', 8), ack('b', 9, 'applied', 7)]))).toEqual([r1]);
      expect((await s.rollouts.sites(r1)).map((r) => [r.siteId, r.result, r.ackedAt])).toEqual([
        ['a', 'applied', 7],
        ['b', null, null],
      ]);
      expect((await s.rollouts.acks('a', 10)).map((x) => x.result)).toEqual(['rejected', 'applied']);
      expect(await s.rollouts.recordAcks([ack('a', 3, 'applied', 9)])).toEqual([]);
      expect(await s.rollouts.recordAcks([])).toEqual([]);
    },
  ],
  [
    'transactions: concurrent ones do not lose updates, and a commit is seen by everyone after',
    async (s) => {
      await s.sites.create('a', spec('a'), 1);
      const got = await Promise.all(
        Array.from({ length: 8 }, () =>
          s.tx(async (t) => {
            const g = await t.rollouts.nextGeneration('a');
            await t.audit.record({ at: g, actor: 'x', action: 'gen', target: 'site/a', details: { g } });
            return g;
          }),
        ),
      );
      expect(got.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await s.rollouts.generation('a')).toBe(8);
      expect(await s.audit.list({ target: 'site/a', limit: 100 })).toHaveLength(8);
      expect(await s.tx(async (t) => (await t.sites.get('a'))?.name)).toBe('a');
    },
  ],
  [
    'bundles and acks: latest per site, only enrolled sites, the one before, acks newest first',
    async (s) => {
      await enrolled(s, 'a', 2);
      await s.sites.create('p', spec('p'), 1);
      const b = (siteId: string, generation: number, policyVersion: number) => ({
        siteId,
        generation,
        policyVersion,
        rolloutId: null,
        bundle: `{"g":${generation}}`,
        createdAt: generation,
      });
      await s.rollouts.addBundle(b('a', 1, 1));
      await s.rollouts.addBundle({ ...b('a', 2, 2), rolloutId: 7 });
      await s.rollouts.addBundle(b('p', 1, 1));
      await expect(s.rollouts.addBundle(b('a', 2, 3))).rejects.toThrow();
      expect(await s.rollouts.latestBundle('a')).toEqual({ ...b('a', 2, 2), rolloutId: 7 });
      expect(await s.rollouts.latestBundle('nope')).toBeUndefined();
      expect((await s.rollouts.latestBundles()).map((x) => [x.siteId, x.generation])).toEqual([['a', 2]]);
      expect((await s.rollouts.bundleBefore('a', 2))?.policyVersion).toBe(1);
      expect(await s.rollouts.bundleBefore('a', 1)).toBeUndefined();
      await s.rollouts.addAck({ siteId: 'a', generation: 1, result: 'applied', code: null, reason: null, at: '2026-01-01T00:00:00Z', receivedAt: 5 });
      await s.rollouts.addAck({ siteId: 'a', generation: 2, result: 'rejected', code: 'X', reason: 'r', at: '2026-01-01T00:00:01Z', receivedAt: 6 });
      expect(await s.rollouts.acks('a', 1)).toEqual([
        { siteId: 'a', generation: 2, result: 'rejected', code: 'X', reason: 'r', at: '2026-01-01T00:00:01Z', receivedAt: 6 },
      ]);
      expect((await s.rollouts.acks('a', 10)).map((x) => x.generation)).toEqual([2, 1]);
      await s.rollouts.nextGeneration('a');
      await s.rollouts.nextGeneration('a');
      const sums = await s.rollouts.siteSummaries();
      expect(sums.get('a')).toEqual({
        generation: 2,
        policyVersion: 2,
        lastAck: { siteId: 'a', generation: 2, result: 'rejected', code: 'X', reason: 'r', at: '2026-01-01T00:00:01Z', receivedAt: 6 },
      });
      expect(sums.get('p')).toEqual({ generation: 0, policyVersion: 1, lastAck: null });
    },
  ],
  [
    'telemetry: deduped by (site, seq), queried by site/policy/verdict/time, counters summed, pruned to caps',
    async (s) => {
      const batch = {
        siteId: 's1',
        device: 'd1',
        seq: 1,
        type: 'verdicts',
        at: '2026-01-01T00:00:00Z',
        counters: [
          { policy: { kind: 'NetworkPolicy', namespace: 'shop', name: 'a', rule: 'ingress[0]' }, verdict: 'deny' as const, packets: 3, bytes: 300 },
          { policy: null, verdict: 'allow' as const, packets: 1, bytes: 10 },
        ],
        verdicts: [verdict('2026-01-01T00:00:00Z', 'deny', 'a'), verdict('2026-01-01T00:01:00Z', 'allow', 'a'), verdict('2026-01-01T00:02:00Z', 'deny', 'b')],
      };
      expect(await s.telemetry.ingest(batch, 0)).toBe(true);
      expect(await s.telemetry.ingest(batch, 0)).toBe(false);
      expect(await s.telemetry.ingest({ ...batch, siteId: 's2', counters: [] }, 0)).toBe(true);
      // A replacement device numbers its outbox from 1 again: not a duplicate.
      expect(await s.telemetry.ingest({ ...batch, device: 'd2', verdicts: [], counters: [] }, 0)).toBe(true);
      expect(await s.telemetry.flows({ siteId: 's1', limit: 100 })).toHaveLength(3);
      expect((await s.telemetry.flows({ siteId: 's1', verdict: 'deny', limit: 100 })).map((f) => f.policy)).toEqual([
        'NetworkPolicy/shop/b',
        'NetworkPolicy/shop/a',
      ]);
      expect((await s.telemetry.flows({ siteId: 's1', limit: 1 }))[0]).toMatchObject({
        siteId: 's1',
        seq: 1,
        at: '2026-01-01T00:02:00.000Z',
        sport: 1234,
        policy: 'NetworkPolicy/shop/b',
        rule: 'ingress[0]',
        count: 1,
      });
      expect(await s.telemetry.flows({ policy: 'NetworkPolicy/shop/a', verdict: 'deny', limit: 100 })).toHaveLength(2);
      // A follower reads what was stored after an id, oldest first.
      const all = await s.telemetry.flows({ limit: 100 });
      const last = await s.telemetry.lastFlowId();
      expect(last).toBe(Math.max(...all.map((f) => f.id)));
      const first = Math.min(...all.map((f) => f.id));
      const after = await s.telemetry.flows({ afterId: first, limit: 100 });
      expect(after.map((f) => f.id)).toEqual([...all.map((f) => f.id)].filter((id) => id > first).sort((a, b) => a - b));
      expect(await s.telemetry.flows({ since: Date.parse('2026-01-01T00:01:00Z'), until: Date.parse('2026-01-01T00:02:00Z'), limit: 100 })).toHaveLength(2);
      expect(await s.telemetry.counters({ siteId: 's1' })).toEqual([
        { siteId: 's1', policy: null, verdict: 'allow', packets: 1, bytes: 10 },
        { siteId: 's1', policy: 'NetworkPolicy/shop/a', verdict: 'deny', packets: 3, bytes: 300 },
      ]);
      await s.telemetry.prune({ maxRowsPerSite: 1, maxAgeMs: 1e15 }, Date.parse('2026-01-02T00:00:00Z'));
      expect((await s.telemetry.flows({ limit: 100 })).map((f) => [f.siteId, f.policy]).sort()).toEqual([
        ['s1', 'NetworkPolicy/shop/b'],
        ['s2', 'NetworkPolicy/shop/b'],
      ]);
      await s.telemetry.prune({ maxRowsPerSite: 100, maxAgeMs: 1000 }, Date.parse('2026-01-02T00:00:00Z'));
      expect(await s.telemetry.flows({ limit: 100 })).toHaveLength(0);
    },
  ],
  [
    'keys: added, listed oldest first, updated',
    async (s) => {
      await s.keys.add({ keyId: 'k2', publicKey: 'p2', createdAt: 2, activatedAt: null, retiredAt: null, untrustedAt: null });
      await s.keys.add({ keyId: 'k1', publicKey: 'p1', createdAt: 1, activatedAt: 1, retiredAt: null, untrustedAt: null });
      await s.keys.update('k1', { retiredAt: 5, untrustedAt: 9 });
      expect(await s.keys.list()).toEqual([
        { keyId: 'k1', publicKey: 'p1', createdAt: 1, activatedAt: 1, retiredAt: 5, untrustedAt: 9 },
        { keyId: 'k2', publicKey: 'p2', createdAt: 2, activatedAt: null, retiredAt: null, untrustedAt: null },
      ]);
    },
  ],
  [
    'cluster: hub nodes registered and refreshed; a site health change kept unless an older one arrives late',
    async (s) => {
      await s.cluster.upsertNode({ name: 'hub-b', wireguardKey: 'kb', endpoint: '10.0.0.2:51820', overlayIndex: 65533, seenAt: 1 });
      await s.cluster.upsertNode({ name: 'hub-a', wireguardKey: 'ka', endpoint: '10.0.0.1:51820', overlayIndex: 65534, seenAt: 1 });
      await s.cluster.upsertNode({ name: 'hub-a', wireguardKey: 'ka2', endpoint: '10.0.0.1:51821', overlayIndex: 65534, seenAt: 5 });
      expect(await s.cluster.nodes()).toEqual([
        { name: 'hub-a', wireguardKey: 'ka2', endpoint: '10.0.0.1:51821', overlayIndex: 65534, seenAt: 5 },
        { name: 'hub-b', wireguardKey: 'kb', endpoint: '10.0.0.2:51820', overlayIndex: 65533, seenAt: 1 },
      ]);
      // Two nodes cannot share an overlay address.
      await expect(s.cluster.upsertNode({ name: 'hub-c', wireguardKey: 'kc', endpoint: 'x:1', overlayIndex: 65533, seenAt: 1 })).rejects.toThrow();
      expect(await s.cluster.removeNode('hub-b')).toBe(true);
      expect(await s.cluster.removeNode('hub-b')).toBe(false);
      await s.cluster.putHealth({ siteId: 'a', health: 'online', reason: 'heartbeats', since: 10, by: 'hub-a' });
      await s.cluster.putHealth({ siteId: 'a', health: 'offline', reason: 'last will', since: 20, by: 'hub-b' });
      // Replicas hear the same change at slightly different times: an older one arriving late does not win.
      await s.cluster.putHealth({ siteId: 'a', health: 'online', reason: 'late', since: 15, by: 'hub-c' });
      await s.cluster.putHealth({ siteId: 'b', health: 'degraded', reason: 'failing: pos', since: 3, by: 'hub-a' });
      expect(await s.cluster.health()).toEqual([
        { siteId: 'a', health: 'offline', reason: 'last will', since: 20, by: 'hub-b' },
        { siteId: 'b', health: 'degraded', reason: 'failing: pos', since: 3, by: 'hub-a' },
      ]);
    },
  ],
  [
    'health events: recorded once across replicas, listed newest first, the newest `keep` per site kept',
    async (s) => {
      const opts = { dedupeMs: 5000, keep: 3 };
      const e = (at: number, from: string, to: string) => ({ siteId: 'a', from, to, at, reason: `r${at}` });
      expect(await s.tx((t) => t.health.record(e(1000, 'online', 'offline'), opts))).toBe(true);
      // A second replica saw the same change 40 ms later: not stored again.
      expect(await s.tx((t) => t.health.record(e(1040, 'online', 'offline'), opts))).toBe(false);
      // Two replicas at once, each in its own transaction: one row.
      const both = await Promise.all([6000, 6003].map((at) => s.tx((t) => t.health.record(e(at, 'offline', 'online'), opts))));
      expect(both.filter(Boolean)).toHaveLength(1);
      // The same change again later is a new event.
      expect(await s.tx((t) => t.health.record(e(20_000, 'online', 'offline'), opts))).toBe(true);
      expect(await s.health.record({ siteId: 'b', from: 'offline', to: 'online', at: 7, reason: '' }, opts)).toBe(true);
      expect((await s.health.list('a', 10)).map((x) => [x.at, x.from, x.to])).toEqual([
        [20_000, 'online', 'offline'],
        [expect.any(Number), 'offline', 'online'],
        [1000, 'online', 'offline'],
      ]);
      expect((await s.health.list('a', 1))[0]).toEqual({ siteId: 'a', from: 'online', to: 'offline', at: 20_000, reason: 'r20000' });
      for (let i = 0; i < 5; i++) await s.tx((t) => t.health.record(e(100_000 + i * 10_000, 'online', 'degraded'), opts));
      expect((await s.health.list('a', 10)).map((x) => x.at)).toEqual([140_000, 130_000, 120_000]);
      expect(await s.health.list('b', 10)).toHaveLength(1);
    },
  ],
  [
    'updates: releases, a staged update rollout, reports, and the fleet view',
    async (s) => {
      const rel = {
        version: '0.2.0',
        kind: 'agent' as const,
        signed: '{}',
        sha256: 'ab',
        size: 10,
        minHubVersion: '0.1.0',
        complete: false,
        uploadedBy: 'ops',
        uploadedAt: 5,
      };
      await s.updates.addRelease(rel);
      await s.updates.markReleaseComplete('0.2.0', 'agent');
      expect(await s.updates.release('0.2.0', 'agent')).toEqual({ ...rel, complete: true });
      expect(await s.updates.release('0.2.0', 'rootfs')).toBeUndefined();
      await enrolled(s, 'u1', 1);
      await enrolled(s, 'u2', 2);
      const id = await s.updates.create(
        {
          version: '0.2.0',
          kind: 'agent',
          selector: { matchLabels: {} },
          stages: [
            { name: 'canary', sites: ['u1'] },
            { name: 'all', percent: 100 },
          ],
          state: 'running',
          stage: 0,
          stageAckedAt: null,
          reason: null,
          deadlineS: 60,
          createdBy: 'ops',
          createdAt: 6,
          updatedAt: 6,
        },
        [
          { siteId: 'u1', stage: 0 },
          { siteId: 'u2', stage: 1 },
        ],
      );
      await s.updates.markPublished(id, 'u1', 7);
      await s.updates.update(id, { state: 'failed', reason: 'canary failed', updatedAt: 9 });
      expect(await s.updates.get(id)).toMatchObject({
        id,
        state: 'failed',
        reason: 'canary failed',
        stages: [
          { name: 'canary', sites: ['u1'] },
          { name: 'all', percent: 100 },
        ],
      });
      expect(
        await s.updates.recordReport(
          'u1',
          { rolloutId: id, version: '0.2.0', from: '0.1.0', state: 'rolled-back', code: 'UPDATE_HEALTH_GATE', reason: 'no broker' },
          8,
        ),
      ).toBe(true);
      expect(await s.updates.recordReport('u1', { rolloutId: id, version: '0.2.0', from: '0.1.0', state: 'blessed', code: null, reason: null }, 9)).toBe(false);
      expect(await s.updates.sites(id)).toEqual([
        { rolloutId: id, siteId: 'u1', stage: 0, publishedAt: 7, result: 'failed', code: 'UPDATE_HEALTH_GATE', reason: 'no broker', reportedAt: 8 },
        { rolloutId: id, siteId: 'u2', stage: 1, publishedAt: null, result: null, code: null, reason: null, reportedAt: null },
      ]);
      await s.updates.setSiteVersion('u2', '0.1.0', 3);
      expect((await s.updates.fleet()).filter((f) => f.siteId.startsWith('u'))).toEqual([
        // The report of the second, blessed try landed on the site's version (the row kept the first result).
        { siteId: 'u1', version: '0.2.0', lastUpdate: { rolloutId: id, version: '0.2.0', state: 'blessed', code: null, reason: null, at: 9 } },
        { siteId: 'u2', version: '0.1.0', lastUpdate: null },
      ]);
      expect((await s.updates.list(10)).map((r) => r.id)).toEqual([id]);
    },
  ],
  [
    'links: added with increasing ids, listed in order, removed once, kept as declared',
    async (s) => {
      const a = await s.links.add({ kind: 'pair', a: 's1', b: 's2' }, 'ops', 10);
      const b = await s.links.add({ kind: 'selector', from: { region: 'north' }, to: { kind: 'warehouse' }, same: ['region'] }, 'ops', 11);
      expect(b.id).toBeGreaterThan(a.id);
      expect(await s.links.list()).toEqual([a, b]);
      expect(await s.links.get(b.id)).toEqual({
        id: b.id,
        spec: { kind: 'selector', from: { region: 'north' }, to: { kind: 'warehouse' }, same: ['region'] },
        createdBy: 'ops',
        createdAt: 11,
      });
      expect(await s.links.remove(a.id)).toBe(true);
      expect(await s.links.remove(a.id)).toBe(false);
      expect(await s.links.get(a.id)).toBeUndefined();
      expect((await s.links.list()).map((l) => l.id)).toEqual([b.id]);
    },
  ],
  [
    'node tokens: N uses, the last one marks the token used; one-time tokens as before; only site tokens die with a device',
    async (s) => {
      await s.sites.create('a', spec('a'), 1);
      await s.tokens.addEnrollToken({
        hash: 'n3',
        siteId: 'a',
        createdAt: 1,
        expiresAt: 100,
        usedAt: null,
        createdBy: 'ops',
        forNodes: true,
        maxUses: 3,
        uses: 0,
      });
      await s.tokens.addEnrollToken({ hash: 'one', siteId: 'a', createdAt: 1, expiresAt: 100, usedAt: null, createdBy: 'ops' });
      expect(await s.tokens.enrollToken('n3')).toMatchObject({ forNodes: true, maxUses: 3, uses: 0, usedAt: null });
      expect(await s.tokens.useEnrollToken('n3', 5)).toBe(true);
      expect(await s.tokens.useEnrollToken('n3', 6)).toBe(true);
      expect(await s.tokens.enrollToken('n3')).toMatchObject({ uses: 2, usedAt: null });
      expect(await s.tokens.useEnrollToken('n3', 7)).toBe(true);
      expect(await s.tokens.enrollToken('n3')).toMatchObject({ uses: 3, usedAt: 7 });
      expect(await s.tokens.useEnrollToken('n3', 8)).toBe(false);
      await s.tokens.invalidateSiteTokens('a', 9);
      expect(await s.tokens.enrollToken('one')).toMatchObject({ forNodes: false, maxUses: 1, usedAt: 9 });
    },
  ],
  [
    'nodes: put, replace a device, credentials, applied generation, revoke one, overlay indexes shared with sites',
    async (s) => {
      await enrolled(s, 'a', 2);
      const node = (name: string, overlayIndex: number, key = `wg-${name}`) => ({
        siteId: 'a',
        name,
        state: 'enrolled' as const,
        identityKey: `id-${name}`,
        wireguardKey: key,
        overlayIndex,
        agentVersion: '1.0',
        enrolledAt: 10,
      });
      await s.nodes.put(node('n1', 3));
      await s.nodes.put(node('n2', 4));
      expect(await s.sites.maxOverlayIndex()).toBe(4);
      expect([...(await s.sites.usedOverlayIndexes())].sort()).toEqual([2, 3, 4]);
      expect(await s.nodes.holdersOfWireguardKey('wg-n1', null)).toEqual(['a.n1']);
      expect(await s.nodes.holdersOfWireguardKey('wg-n1', { siteId: 'a', name: 'n1' })).toEqual([]);
      await s.nodes.setCredential('a', 'n1', 'h1');
      await s.nodes.setPendingCredential('a', 'n1', 'h2');
      expect([await s.nodes.credentialHash('a', 'n1'), await s.nodes.pendingCredentialHash('a', 'n1')]).toEqual(['h1', 'h2']);
      await s.nodes.promoteCredential('a', 'n1');
      expect([await s.nodes.credentialHash('a', 'n1'), await s.nodes.pendingCredentialHash('a', 'n1')]).toEqual(['h2', undefined]);
      await s.nodes.recordApplied('a', 'n1', 5, 20);
      await s.nodes.recordApplied('a', 'n1', 4, 21);
      expect(await s.nodes.get('a', 'n1')).toMatchObject({ appliedGeneration: 5, appliedAt: 20 });
      // A new device for n2: new keys, same overlay address; n1 untouched.
      await s.nodes.put({ ...node('n2', 4, 'wg-n2-new'), identityKey: 'id-n2-new', enrolledAt: 30 });
      expect(await s.nodes.get('a', 'n2')).toMatchObject({ identityKey: 'id-n2-new', wireguardKey: 'wg-n2-new', overlayIndex: 4, enrolledAt: 30 });
      expect(await s.nodes.get('a', 'n1')).toMatchObject({ identityKey: 'id-n1', appliedGeneration: 5 });
      expect(await s.nodes.revoke('a', 'n2', 40)).toBe(true);
      expect(await s.nodes.revoke('a', 'n2', 41)).toBe(false);
      expect(await s.nodes.credentialHash('a', 'n2')).toBeUndefined();
      expect((await s.nodes.all({ state: 'enrolled' })).map((n) => n.name)).toEqual(['n1']);
      expect((await s.nodes.list('a')).map((n) => [n.name, n.state, n.revokedAt])).toEqual([
        ['n1', 'enrolled', null],
        ['n2', 'revoked', 40],
      ]);
      await s.nodes.setAgentVersion('a', 'n1', '1.1');
      expect((await s.nodes.get('a', 'n1'))?.agentVersion).toBe('1.1');
    },
  ],
  [
    'telemetry: a node names the verdicts it judged, and its outbox numbers from 1 beside its peers',
    async (s) => {
      await enrolled(s, 'a', 2);
      const batch = (node: string, device: string) => ({
        siteId: 'a',
        node,
        device,
        seq: 1,
        type: 'verdicts',
        at: '2026-01-01T00:00:00Z',
        verdicts: [verdict('2026-01-01T00:00:00Z', 'deny', 'db')],
        counters: [],
      });
      expect(await s.telemetry.ingest(batch('n1', 'id-n1'), 1)).toBe(true);
      expect(await s.telemetry.ingest(batch('n2', 'id-n2'), 1)).toBe(true);
      expect(await s.telemetry.ingest(batch('n2', 'id-n2'), 1)).toBe(false);
      expect((await s.telemetry.flows({ siteId: 'a', limit: 10 })).map((f) => f.node).sort()).toEqual(['n1', 'n2']);
    },
  ],
];
