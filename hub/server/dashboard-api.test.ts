// The API the dashboard added, as any client sees it: sessions (cookie), rollout pause/resume, the
// rollout progress stream (real HTTP, server-sent events), what-if, and a site's timeline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateSession, SESSION_TTL_MS } from '../auth/sessions.ts';
import { fleet } from '../testing/fleet.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import type { SimAgent } from '../testing/sim-agent.ts';

const NETPOL = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{ipBlock: {cidr: 10.1.0.0/16}}]
    ports: [{port: 5432, protocol: TCP}]
`;
const POD = `apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
`;

let t: TestHub;
let agents: Map<string, SimAgent>;
beforeAll(async () => {
  t = await startTestHub();
  // Silent sites: the tests ack by hand, to watch each ack arrive on the stream.
  agents = await fleet(
    t,
    ['s-1', 's-2'],
    () => ({ region: 'eu' }),
    () => ({ silent: true }),
  );
});
afterAll(async () => {
  for (const a of agents?.values() ?? []) await a.close();
  await t?.close();
});

async function signIn(token: string) {
  const r = await t.hub.app.inject({ method: 'POST', url: '/v1/session', payload: { token } });
  return { status: r.statusCode, body: r.json(), cookie: String(r.headers['set-cookie'] ?? '') };
}
const withCookie = (cookie: string, method: 'GET' | 'DELETE', url: string) => t.hub.app.inject({ method, url, headers: { cookie: cookie.split(';')[0] } });

describe('sessions', () => {
  it('trade a token for an HttpOnly, Secure, SameSite=Strict cookie with the same role; refuse a bad token', async () => {
    expect((await signIn('weft_nope')).status).toBe(401);
    const s = await signIn(t.admin);
    expect(s.status).toBe(201);
    expect(s.body).toMatchObject({ name: 'bootstrap-admin', role: 'admin' });
    expect(s.cookie).toMatch(/^weft_session=weft_[\w-]+; Path=\/; HttpOnly; Secure; SameSite=Strict; Max-Age=28800$/);
    const me = await withCookie(s.cookie, 'GET', '/v1/whoami');
    expect(me.json()).toMatchObject({ role: 'admin', name: 'bootstrap-admin (dashboard)' });
  });

  it('accept only sessions in the cookie, end at logout, after their TTL, and with their parent token', async () => {
    const raw = await t.hub.app.inject({ method: 'GET', url: '/v1/whoami', headers: { cookie: `weft_session=${t.admin}` } });
    expect(raw.statusCode).toBe(401);

    const viewer = (await t.api('POST', '/v1/tokens', { name: 'v', role: 'viewer' })).body;
    const s = await signIn(viewer.token);
    const secret = s.cookie.split(';')[0].split('=')[1];
    expect(await authenticateSession(t.hub.store, secret, Date.now())).toMatchObject({ role: 'viewer' });
    expect(await authenticateSession(t.hub.store, secret, Date.now() + SESSION_TTL_MS)).toBeNull();
    // As a bearer token too, a session keeps its TTL and its role.
    expect((await t.api('POST', '/v1/sites', { name: 'x-9' }, secret)).status).toBe(403);

    await t.api('DELETE', `/v1/tokens/${viewer.id}`);
    expect((await withCookie(s.cookie, 'GET', '/v1/whoami')).statusCode).toBe(401);

    const a = await signIn(t.admin);
    const out = await withCookie(a.cookie, 'DELETE', '/v1/session');
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await withCookie(a.cookie, 'GET', '/v1/whoami')).statusCode).toBe(401);
  });
});

/** Reads server-sent events from a real HTTP stream. */
async function* events(url: string, token: string): AsyncGenerator<{ event: string; data: unknown; at: number }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += new TextDecoder().decode(value);
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(chunk)?.[1];
        const data = /^data: (.*)$/m.exec(chunk)?.[1];
        if (event && data) yield { event, data: JSON.parse(data), at: Date.now() };
      }
    }
  } finally {
    await reader.cancel();
  }
}

describe('rollout progress and control', () => {
  it('streams progress: every row first, then only the rows an ack changed, within a second; pause and resume', async () => {
    const v = (await t.api('POST', '/v1/policies', { files: [{ name: 'p.yaml', content: NETPOL }], message: 'm' })).body.version;
    const r = (await t.api('POST', '/v1/rollouts', { version: v })).body.rollout;
    const stream = events(`${t.hub.httpUrl}/v1/rollouts/${r.id}/events`, t.admin);
    type P = { rollout: { state: string }; stages: { applied: number; total: number }[]; sites: { siteId: string; result: string | null }[] };
    const first = (await stream.next()).value!;
    const p0 = first.data as P;
    expect(first.event).toBe('progress');
    expect(p0.sites.map((s) => s.siteId).sort()).toEqual(['s-1', 's-2']);
    expect(p0.stages[0]).toMatchObject({ total: 2, applied: 0 });

    const a1 = agents.get('s-1')!;
    await a1.until(() => a1.bundles.length > 0, 'bundle');
    const sent = Date.now();
    await a1.ack({ generation: a1.bundles[0].generation, result: 'applied' });
    const next = (await stream.next()).value!;
    const p1 = next.data as P;
    expect(p1.sites).toEqual([expect.objectContaining({ siteId: 's-1', result: 'applied' })]);
    expect(p1.stages[0]).toMatchObject({ total: 2, applied: 1 });
    expect(next.at - sent).toBeLessThan(1000);

    expect((await t.api('POST', `/v1/rollouts/${r.id}/pause`, {})).body.rollout.state).toBe('paused');
    expect(((await stream.next()).value!.data as P).rollout.state).toBe('paused');
    expect(await t.api('POST', `/v1/rollouts/${r.id}/pause`, {})).toMatchObject({ status: 409, body: { code: 'ROLLOUT_NOT_RUNNING' } });
    // A paused rollout still blocks a new one, and records acks without passing its stage.
    expect((await t.api('POST', '/v1/rollouts', { version: v })).body.code).toBe('ROLLOUT_IN_PROGRESS');
    const a2 = agents.get('s-2')!;
    await a2.until(() => a2.bundles.length > 0, 'bundle');
    await a2.ack({ generation: a2.bundles[0].generation, result: 'applied' });
    const p2 = (await stream.next()).value!.data as P;
    expect(p2.rollout.state).toBe('paused');
    expect(p2.stages[0]).toMatchObject({ applied: 2 });

    expect((await t.api('POST', `/v1/rollouts/${r.id}/resume`, {})).status).toBe(200);
    for (;;) {
      const p = (await stream.next()).value!.data as P;
      if (p.rollout.state === 'completed') break;
    }
    await stream.return(undefined);
    expect(await t.api('POST', `/v1/rollouts/${r.id}/resume`, {})).toMatchObject({ status: 409, body: { code: 'ROLLOUT_NOT_PAUSED' } });
    expect(await t.api('GET', '/v1/rollouts/999/events')).toMatchObject({ status: 404, body: { code: 'ROLLOUT_NOT_FOUND' } });
  });

  it('lists sites with the same generation, policy version and last ack as each site shows (read in three queries)', async () => {
    const list = (await t.api('GET', '/v1/sites')).body as { id: string }[];
    expect(list.length).toBe(2);
    for (const s of list) {
      const one = (await t.api('GET', `/v1/sites/${s.id}`)).body;
      const pick = (x: Record<string, unknown>) => ({ generation: x.generation, policyVersion: x.policyVersion, lastAck: x.lastAck });
      expect(pick(s as Record<string, unknown>)).toEqual(pick(one));
      expect(one.lastAck).toMatchObject({ result: 'applied' });
    }
  });

  it('refuses pause and resume to a viewer', async () => {
    const viewer = (await t.api('POST', '/v1/tokens', { name: 'v2', role: 'viewer' })).body.token;
    expect((await t.api('POST', '/v1/rollouts/1/pause', {}, viewer)).status).toBe(403);
  });
});

describe('what-if and timeline', () => {
  it('evaluates a version against recorded flows: what it would allow that is denied today, grouped by policy and rule', async () => {
    const a = agents.get('s-1')!;
    const at = new Date().toISOString();
    const rec = {
      at,
      generation: 1,
      endpoint: 'shop/db',
      direction: 'ingress' as const,
      verdict: 'allow' as const,
      proto: 6,
      dst: '10.42.0.5',
      sport: 1234,
      dport: 5432,
      policy: null,
    };
    await a.events({
      seq: 1,
      at,
      type: 'verdicts',
      verdicts: [
        { ...rec, src: '10.9.0.7' },
        { ...rec, src: '10.1.0.3' },
      ],
    });
    // The sites run db-from-web today; the candidate drops it (the pod's labels come from its push).
    const v = (await t.api('POST', '/v1/policies', { files: [{ name: 'pod.yaml', content: POD }], message: 'drop db-from-web' })).body.version;
    let r = await t.api('POST', '/v1/policies/what-if', { version: v, selector: 'region=eu', windowS: 3600 });
    for (let i = 0; r.body.flows < 2 && i < 40; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await t.api('POST', '/v1/policies/what-if', { version: v, selector: 'region=eu', windowS: 3600 });
    }
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ version: v, sites: 2, flows: 2, evaluated: 2, newlyDenied: [] });
    expect(r.body.newlyAllowed).toEqual([
      { policy: 'NetworkPolicy/shop/db-from-web', rule: 'isolation', flows: [expect.objectContaining({ siteId: 's-1', peer: '10.9.0.7', port: 5432 })] },
    ]);
    expect(await t.api('POST', '/v1/policies/what-if', { version: 99 })).toMatchObject({ status: 404, body: { code: 'POLICY_VERSION_NOT_FOUND' } });
    expect(await t.api('POST', '/v1/policies/what-if', { version: v, selector: 'region=mars' })).toMatchObject({
      status: 409,
      body: { code: 'ROLLOUT_NO_SITES' },
    });
  });

  it("lists a site's timeline newest first: creation, enrollment, acks", async () => {
    const r = await t.api('GET', '/v1/sites/s-1/timeline');
    expect(r.status).toBe(200);
    const kinds = (r.body as { kind: string; summary: string }[]).map((e) => `${e.kind}: ${e.summary.split(' by ')[0]}`);
    expect(kinds).toEqual(expect.arrayContaining(['audit: site.create', 'audit: site.enroll', 'ack: applied generation 1']));
    expect(kinds.indexOf('ack: applied generation 1')).toBeLessThan(kinds.indexOf('audit: site.create'));
    expect((await t.api('GET', '/v1/sites/nope/timeline')).status).toBe(404);
  });

  it("shows a site's health changes in its timeline, read from the store (the same on every replica)", async () => {
    const before = (await t.hub.store.health.list('s-1', 50)).length;
    const at = Date.now();
    // The site is silent (offline): a retained online status, a drain and its end, then its session drops.
    t.hub.health.apply('s-1', { type: 'status', state: 'online', retained: true, at });
    t.hub.health.apply('s-1', { type: 'drain', draining: true, at: at + 1 });
    t.hub.health.apply('s-1', { type: 'drain', draining: false, at: at + 2 });
    t.hub.health.apply('s-1', { type: 'session-down', at: at + 3 });
    for (let i = 0; i < 100 && (await t.hub.store.health.list('s-1', 50)).length < before + 4; i++) await new Promise((r) => setTimeout(r, 20));
    const entries = ((await t.api('GET', '/v1/sites/s-1/timeline')).body as { kind: string; summary: string }[]).filter((e) => e.kind === 'health');
    expect(entries.map((e) => e.summary.split(':')[0]).slice(0, 4)).toEqual(['online → offline', 'draining → online', 'online → draining', 'offline → online']);
  });
});

describe('fleet list and flow follow', () => {
  it('lists the fleet view: only the fleet fields, the same values as the full list, paged by offset and limit', async () => {
    const full = (await t.api('GET', '/v1/sites')).body as Record<string, unknown>[];
    const fleetList = (await t.api('GET', '/v1/sites?view=fleet')).body as Record<string, unknown>[];
    expect(fleetList.map((s) => s.id)).toEqual(full.map((s) => s.id));
    expect(Object.keys(fleetList[0]).sort()).toEqual(['drained', 'health', 'id', 'labels', 'lastAck', 'lat', 'lon', 'name', 'policyVersion', 'state']);
    const f = fleetList[0] as { lastAck: object; policyVersion: number; labels: object };
    expect(f).toMatchObject({ policyVersion: full[0].policyVersion, labels: full[0].labels });
    expect(Object.keys(f.lastAck).sort()).toEqual(['generation', 'receivedAt', 'result']);
    const page = (await t.api('GET', '/v1/sites?view=fleet&offset=1&limit=1')).body as { id: string }[];
    expect(page.map((s) => s.id)).toEqual([full[1].id]);
    expect((await t.api('GET', '/v1/sites?view=compact')).status).toBe(400);
    expect((await t.api('GET', '/v1/sites?view=fleet', undefined, 'weft_nope')).status).toBe(401);
  });

  it('follows flows as server-sent events: only new events matching the filters, within a second, to a viewer', async () => {
    const viewer = (await t.api('POST', '/v1/tokens', { name: 'v3', role: 'viewer' })).body.token;
    const stream = events(`${t.hub.httpUrl}/v1/flows/events?site=s-2&verdict=deny`, viewer);
    const a = agents.get('s-2')!;
    const rec = (src: string, verdict: 'allow' | 'deny') => ({
      at: new Date().toISOString(),
      generation: 1,
      endpoint: 'shop/db',
      direction: 'ingress' as const,
      verdict,
      proto: 6,
      src,
      dst: '10.42.0.5',
      sport: 1234,
      dport: 5432,
      policy: null,
    });
    // Connect (the generator fetches on its first read), and let the hub take its starting point: now.
    const pending = stream.next();
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    await a.events({
      seq: 1,
      at: new Date().toISOString(),
      type: 'verdicts',
      verdicts: [rec('10.9.0.1', 'deny'), rec('10.9.0.2', 'allow'), rec('10.9.0.3', 'deny')],
    });
    const first = (await pending).value!;
    expect(first.event).toBe('flows');
    const rows = first.data as { id: number; siteId: string; src: string; verdict: string }[];
    expect(rows.map((r) => [r.siteId, r.src, r.verdict])).toEqual([
      ['s-2', '10.9.0.1', 'deny'],
      ['s-2', '10.9.0.3', 'deny'],
    ]);
    expect(rows[1].id).toBeGreaterThan(rows[0].id);
    expect(first.at - sent).toBeLessThan(1000);
    await stream.return(undefined);

    // From a given id: what was stored after it (a follower that reconnects misses nothing).
    const again = events(`${t.hub.httpUrl}/v1/flows/events?site=s-2&after=${rows[0].id}`, viewer);
    expect(((await again.next()).value!.data as { src: string }[]).map((r) => r.src)).toEqual(['10.9.0.2', '10.9.0.3']);
    await again.return(undefined);
    expect((await t.api('GET', '/v1/flows/events?verdict=maybe')).status).toBe(400);
    expect((await t.api('GET', '/v1/flows/events', undefined, 'weft_nope')).status).toBe(401);
  });
});
