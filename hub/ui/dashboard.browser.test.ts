// The dashboard in Debian's chromium against a real hub with simulated sites: sign-in, the fleet and
// its filters, a canary rollout watched live (server-sent events, no polling) with pause and resume,
// a what-if that predicts a deny and the rollout that produces it, flows filtered to one policy's
// denies, a rollback, a viewer refused, hostile strings shown as text, and the CSP header.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../policy/index.ts';
import { startTestHub, type TestHub } from '../testing/hub-fixture.ts';
import type { SimAgent } from '../testing/sim-agent.ts';
import { CSP } from './serve.ts';
import { type Browser, openBrowser, screenshotOnFailure } from './testing/browser.ts';
import { enrollAt, judge, type SiteSpec, sendVerdicts, verdict } from './testing/scenario.ts';

const XSS = '<img src=x onerror="window.__xss=1">';
const INVENTORY = `apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
`;
const CACHE = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cache, namespace: shop}
spec:
  podSelector: {matchLabels: {app: cache}}
  ingress: [{from: [{podSelector: {}}]}]
`;
const DB_FROM_WEB = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{ipBlock: {cidr: 10.1.0.0/16}}]
    ports: [{port: 5432, protocol: TCP}]
`;
/** What store-a's k3s would say about its pods. */
const SITE_INVENTORY: Inventory = {
  namespaces: [{ name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } }],
  pods: [{ namespace: 'shop', name: 'db', labels: { app: 'db' }, ports: [] }],
};
/** The flow store-a sees every day: a client outside 10.1/16 reaching the database. */
const DAILY = { siteId: 'store-a', endpoint: 'shop/db', direction: 'ingress' as const, peer: '10.9.0.7', protocol: 'TCP' as const, port: 5432, count: 1 };

const DOC_SHOTS = process.env.WEFT_DOCS_SCREENSHOTS ? join(import.meta.dirname, '..', '..', 'docs', 'img') : null;

let t: TestHub;
let b: Browser;
let page: Page;
const agents = new Map<string, SimAgent>();
let viewerToken = '';

async function shot(name: string): Promise<void> {
  if (!DOC_SHOTS) return;
  mkdirSync(DOC_SHOTS, { recursive: true });
  await page.screenshot({ path: join(DOC_SHOTS, `dashboard-${name}.png`) });
}

/** A fresh load of a dashboard page (a hash change alone would keep the previous view's state). */
async function open(path: string): Promise<void> {
  await page.goto('about:blank');
  await page.goto(`${t.hub.url}/ui/#${path}`);
}

async function signIn(token: string): Promise<void> {
  await page.goto(`${t.hub.url}/ui/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('me').waitFor();
}

async function pushPolicy(files: { name: string; content: string }[], message: string): Promise<number> {
  const r = await t.api('POST', '/v1/policies', { files, message });
  expect(r.status).toBe(201);
  return r.body.version;
}

beforeAll(async () => {
  t = await startTestHub();
  const sites: SiteSpec[] = [
    { name: 'store-a', labels: { region: 'eu', tier: 'store' }, lat: 48.85, lon: 2.35 },
    { name: 'store-b', labels: { region: 'eu', tier: 'store' }, lat: 52.52, lon: 13.4 },
    { name: 'store-c', labels: { region: 'us', tier: 'store' }, lat: 40.71, lon: -74.0 },
    { name: 'store-d', labels: { region: 'us', note: XSS }, lat: 34.05, lon: -118.24 },
  ];
  for (const s of sites) {
    const a = await enrollAt(t, s, {
      decide: (p) => {
        // store-a's datapath judges its daily flow with every bundle it applies.
        if (p.siteId === 'store-a') void sendVerdicts(a, judge(p.policies, SITE_INVENTORY, [DAILY], p.generation));
        return { result: 'applied' };
      },
    });
    agents.set(s.name, a);
    const enforcing = s.name !== 'store-d';
    for (let i = 0; i < 2; i++)
      await a.heartbeat(enforcing ? {} : { kernelEnforcing: false, notEnforcing: { code: 'DATAPATH_BPF_LOAD', reason: 'libbpf refused the object' } });
  }
  await t.api('POST', '/v1/sites/store-b/drain');
  // Flows recorded before any rollout: the daily allow, and denies of two policies.
  const a = agents.get('store-a')!;
  await sendVerdicts(a, [
    verdict('shop/db', 'allow', '10.9.0.7', 5432, null),
    verdict('shop/pos', 'deny', '10.9.0.8', 8080, { kind: 'NetworkPolicy', namespace: 'shop', name: 'pos-lockdown', rule: 'isolation' }),
    verdict('shop/pos', 'deny', '10.9.0.9', 8080, { kind: 'NetworkPolicy', namespace: 'shop', name: 'pos-lockdown', rule: 'isolation' }),
    verdict(XSS, 'deny', '10.9.0.10', 22, { kind: 'AdminNetworkPolicy', name: 'no-ssh', rule: 'ingress[0]' }),
  ]);
  viewerToken = (await t.api('POST', '/v1/tokens', { name: 'night-shift', role: 'viewer' })).body.token;
  b = await openBrowser();
  page = b.page;
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await screenshotOnFailure(page, ctx.task.name);
});

afterAll(async () => {
  await b?.close();
  for (const a of agents.values()) await a.close();
  await t?.close();
});

describe('dashboard', () => {
  it('serves /ui/ with a strict Content-Security-Policy and no inline script', async () => {
    const res = await page.goto(`${t.hub.url}/ui/`);
    expect(res?.status()).toBe(200);
    const headers = res!.headers();
    expect(headers['content-security-policy']).toBe(CSP);
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).not.toContain('unsafe-inline');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(await page.locator('script:not([src])').count()).toBe(0);
  });

  it('refuses a bad token with the API error, signs in with a good one into an HttpOnly SameSite=Strict session', async () => {
    await page.getByLabel('API token').fill('weft_nope');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('UNAUTHORIZED');
    await signIn(t.admin);
    expect(await page.getByTestId('me').textContent()).toBe('bootstrap-admin · admin');
    const cookie = (await b.context.cookies()).find((c) => c.name === 'weft_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: true });
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it('shows every site with its state, and filters by label, state and text', async () => {
    await open('/fleet');
    const count = page.getByTestId('fleet-count');
    await expect.poll(() => count.textContent()).toBe('4 of 4 sites');
    const row = (name: string) => page.locator('tr', { has: page.getByRole('link', { name, exact: true }) });
    await expect.poll(() => row('store-a').locator('.badge').textContent()).toBe('online');
    expect(await row('store-b').locator('.badge').textContent()).toBe('draining');
    expect(await row('store-d').locator('.badge').textContent()).toBe('not enforcing');
    await shot('fleet');
    // The map: store-a (48.85 N, 2.35 E) is a dot in the online colour, until a filter leaves it out.
    const mapPixel = () =>
      page.evaluate(() => {
        const c = document.querySelector('canvas.map') as HTMLCanvasElement;
        const x = Math.round((2.35 + 180) * (c.width / 360));
        const y = Math.round((90 - 48.85) * (c.height / 180));
        return Array.from(c.getContext('2d', { willReadFrequently: true })!.getImageData(x, y, 1, 1).data).join(',');
      });
    await expect.poll(mapPixel).toBe('26,127,55,255');
    await page.getByLabel('Label', { exact: true }).fill('region=eu');
    await expect.poll(() => count.textContent()).toBe('2 of 4 sites');
    await page.getByLabel('State', { exact: true }).selectOption('draining');
    await expect.poll(() => count.textContent()).toBe('1 of 4 sites');
    expect(await mapPixel()).not.toBe('26,127,55,255');
    await page.getByLabel('State', { exact: true }).selectOption('');
    await page.getByLabel('Label', { exact: true }).fill('');
    await page.getByLabel('Search').fill('store-c');
    await expect.poll(() => count.textContent()).toBe('1 of 4 sites');
    await page.getByLabel('Search').fill('');
    // Health changes arrive live (GET /v1/health/events), without a reload.
    await agents.get('store-c')!.heartbeat({ checks: [{ name: 'pos', ok: false, detail: 'connection refused' }] });
    await expect.poll(() => row('store-c').locator('.badge').textContent()).toBe('degraded');
    for (let i = 0; i < 2; i++) await agents.get('store-c')!.heartbeat();
  });

  it('shows hostile strings from sites as text: a label and a flow endpoint holding an <img onerror>', async () => {
    await open('/fleet');
    await expect.poll(() => page.getByText(`note=${XSS}`).count()).toBe(1);
    await open('/flows');
    await expect.poll(() => page.getByRole('cell', { name: XSS, exact: true }).count()).toBe(1);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // The API refuses such a site name outright, and the form shows its coded error as it is.
    await open('/fleet');
    await page.getByText('Enroll a site (admin)').click();
    await page.getByLabel('Name', { exact: true }).fill(XSS);
    await page.getByRole('button', { name: 'Create and issue token' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('SITE_INVALID');
  });

  it('shows a refused push with every error, its file and path', async () => {
    await open('/policy');
    await page.getByLabel('File name').fill('db.yaml');
    await page.getByLabel('YAML', { exact: true }).fill(DB_FROM_WEB.replace('port: 5432', 'port: 70000'));
    await page.getByLabel('Message').fill('typo');
    await page.getByRole('button', { name: 'Push' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('POLICY_INVALID');
    expect(await alert.textContent()).toContain('db.yaml spec.ingress[0].ports[0].port');
  });

  it('rolls out to a canary, then the rest, watched live over server-sent events, with pause and resume', async () => {
    const v1 = await pushPolicy(
      [
        { name: 'inventory.yaml', content: INVENTORY },
        { name: 'cache.yaml', content: CACHE },
      ],
      'cache isolation',
    );
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await open('/rollouts');
    await page.getByLabel('Policy version').fill(String(v1));
    await page.getByLabel('Canary sites').fill('store-a');
    await page.getByLabel('Stages (cumulative %, then all)').fill('50');
    await page.getByLabel('Audit window per stage (s)').fill('2');
    await page.getByRole('button', { name: 'Start rollout' }).click();
    await page.waitForURL(/#\/rollouts\/\d+$/);
    const id = Number(page.url().split('/').pop());
    const state = page.getByTestId('rollout-state');
    // The canary acks; the audit window holds the stage: pause it there.
    await expect.poll(() => page.locator('[data-stage="canary"] .counts').textContent()).toContain('1 applied');
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => state.textContent()).toBe('paused');
    await shot('rollout-paused');
    await new Promise((r) => setTimeout(r, 2500));
    expect(await state.textContent()).toBe('paused');
    expect((await t.api('GET', `/v1/rollouts/${id}`)).body.rollout.stage).toBe(0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => state.textContent(), { timeout: 20_000 }).toBe('completed');
    expect(await page.locator('td.result', { hasText: 'applied' }).count()).toBe(4);
    await shot('rollout-completed');
    // Live by server-sent events: the page never re-read the rollout.
    expect(requests.filter((p) => p === `/v1/rollouts/${id}`)).toEqual([]);
    expect(requests).toContain(`/v1/rollouts/${id}/events`);
  });

  it('predicts with what-if a deny of a flow allowed today, then the rollout produces it, shown in flows', async () => {
    const v2 = await pushPolicy(
      [
        { name: 'inventory.yaml', content: INVENTORY },
        { name: 'cache.yaml', content: CACHE },
        { name: 'db.yaml', content: DB_FROM_WEB },
      ],
      'db only from the store LAN',
    );
    await open('/whatif');
    await page.getByLabel('Policy version').fill(String(v2));
    await page.getByLabel('Sites (label selector, empty: all)').fill('region=eu');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    const denied = page.getByTestId('newly-denied');
    await expect.poll(() => denied.textContent()).toContain('NetworkPolicy/shop/db-from-web');
    expect(await denied.textContent()).toContain('store-a: 10.9.0.7 → shop/db:5432/TCP');
    expect(await page.getByTestId('newly-allowed').textContent()).toContain('None.');
    await shot('what-if');
    // The API and the CLI give the same answer (the CLI calls this route).
    const api = await t.api('POST', '/v1/policies/what-if', { version: v2, selector: 'region=eu' });
    expect(api.body.newlyDenied.map((g: { policy: string; rule: string }) => `${g.policy} ${g.rule}`)).toEqual(['NetworkPolicy/shop/db-from-web isolation']);

    await open('/rollouts');
    await page.getByLabel('Policy version').fill(String(v2));
    await page.getByLabel('Sites (label selector, empty: all)').fill('region=eu');
    await page.getByRole('button', { name: 'Start rollout' }).click();
    await page.waitForURL(/#\/rollouts\/\d+$/);
    await expect.poll(() => page.getByTestId('rollout-state').textContent(), { timeout: 20_000 }).toBe('completed');

    await open('/flows');
    await page.getByLabel('Verdict').selectOption('deny');
    await page.getByLabel('Policy').fill('NetworkPolicy/shop/db-from-web');
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.locator('[data-testid=flows] tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    const cells = await rows.first().locator('td').allTextContents();
    expect(cells.slice(1, 3)).toEqual(['store-a', 'deny']);
    expect(cells.slice(7)).toEqual(['NetworkPolicy/shop/db-from-web', 'isolation', String(agents.get('store-a')!.applied)]);
  });

  it('filters flows to the denies of one policy', async () => {
    await open('/flows');
    await page.getByLabel('Verdict').selectOption('deny');
    await page.getByLabel('Policy').fill('NetworkPolicy/shop/pos-lockdown');
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.locator('[data-testid=flows] tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    for (const r of await rows.all()) expect(await r.locator('td').nth(7).textContent()).toBe('NetworkPolicy/shop/pos-lockdown');
    await shot('flows');
  });

  it('follows new flows live over server-sent events, with the filters, without re-reading the list', async () => {
    const reads: string[] = [];
    const onRequest = (r: { url(): string }) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/v1/flows')) reads.push(path);
    };
    page.on('request', onRequest);
    const listReads = () => reads.filter((p) => p === '/v1/flows').length;
    await open('/flows');
    await page.getByLabel('Verdict').selectOption('deny');
    await page.getByLabel('Policy').fill('NetworkPolicy/shop/pos-lockdown');
    await page.getByLabel('Follow').check();
    const rows = page.locator('[data-testid=flows] tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    await expect.poll(() => reads.includes('/v1/flows/events')).toBe(true);
    const lockdown = { kind: 'NetworkPolicy', namespace: 'shop', name: 'pos-lockdown', rule: 'isolation' };
    const before = listReads();
    const sent = Date.now();
    await sendVerdicts(agents.get('store-a')!, [
      verdict('shop/pos', 'deny', '10.9.0.11', 8080, lockdown),
      verdict('shop/pos', 'allow', '10.9.0.12', 8080, null),
    ]);
    await expect.poll(() => rows.count(), { timeout: 2000 }).toBe(3);
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(await rows.first().locator('td').nth(5).textContent()).toMatch(/^10\.9\.0\.11:/);
    // Over two seconds later, no read of the list since: the stream brought the new flow, not a poll.
    await new Promise((r) => setTimeout(r, 2200));
    expect(listReads()).toBe(before);
    page.off('request', onRequest);
  });

  it('rolls back after a confirmation, and the rollback completes', async () => {
    const before = (await t.api('GET', '/v1/rollouts')).body[0].id;
    await open(`/rollouts/${before}`);
    await page.getByTestId('rollout-state').waitFor();
    await page.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await t.api('GET', '/v1/rollouts')).body[0].id).toBe(before);
    await page.getByRole('button', { name: 'Roll back' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
    await page.waitForURL(new RegExp(`#/rollouts/(?!${before}$)\\d+$`));
    await expect.poll(() => page.getByTestId('rollout-state').textContent(), { timeout: 20_000 }).toBe('completed');
    const latest = (await t.api('GET', '/v1/rollouts')).body[0];
    expect(latest).toMatchObject({ kind: 'rollback', state: 'completed', reason: `rollback of rollout ${before}` });
  });

  it('shows a site: facts, timeline with enrollment and acks, recent flows', async () => {
    await open('/site/store-a');
    const tl = page.getByRole('list', { name: 'Timeline' });
    await expect.poll(() => tl.textContent()).toContain('site.enroll');
    expect(await tl.textContent()).toContain('applied generation');
    // Health changes come from the store: the site coming online when its agent connected.
    expect(await tl.textContent()).toContain('→ online');
    await expect.poll(() => page.locator('[data-testid=flows] tbody tr').count()).toBeGreaterThan(0);
    await shot('site');
  });

  it('is usable on a tablet and with the keyboard: no sideways scrolling, every control labelled, a skip link', async () => {
    await page.setViewportSize({ width: 768, height: 1024 });
    await open('/fleet');
    await expect.poll(() => page.getByTestId('fleet-count').textContent()).toBe('4 of 4 sites');
    await shot('fleet-tablet');
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    for (const path of ['/fleet', '/policy', '/rollouts', '/whatif', '/flows']) {
      await open(path);
      await page.locator('main h1').waitFor();
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll('input, select, textarea')]
          .filter((e) => !(e as HTMLInputElement).labels?.length && !e.getAttribute('aria-label'))
          .map((e) => e.outerHTML),
      );
      expect(unlabelled, path).toEqual([]);
    }
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('refuses a viewer that tries to roll out, with the API error as it is', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    await signIn(viewerToken);
    expect(await page.getByTestId('me').textContent()).toBe('night-shift · viewer');
    await open('/rollouts');
    await page.getByLabel('Policy version').fill('1');
    await page.getByRole('button', { name: 'Start rollout' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('FORBIDDEN');
    expect(await page.getByRole('alert').textContent()).toContain('this needs role operator; the token has role viewer');
  });
});
