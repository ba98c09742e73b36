import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../offline-store/index.ts';
import { enroll } from './enroll.ts';
import { AgentError } from './errors.ts';
import { createLogger } from './logger.ts';
import { StateLine } from './state-line.ts';
import { makePki, type TestPki } from './testing/pki.ts';
import { startHubStub, type HubStub } from './testing/hub-stub.ts';

const log = createLogger({ level: 'silent' });
const fast = { minMs: 5, maxMs: 20 };
let dir: string;
let pki: TestPki;
let other: TestPki;
let hub: HubStub;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weft-enroll-'));
  pki = makePki(dir, { name: 'hub' });
  other = makePki(dir, { name: 'evil' });
  hub = await startHubStub(pki);
});
afterAll(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

function fixture(name: string, over: Record<string, unknown> = {}) {
  const d = mkdtempSync(join(dir, `${name}-`));
  const file = join(d, 'weft-provision.json');
  writeFileSync(
    file,
    JSON.stringify({
      hubUrl: hub.url,
      caFingerprint: pki.caFingerprint,
      token: 'tok-123',
      siteName: 'store-042',
      network: { address: '10.0.0.5/24' },
      ...over,
    }),
    { mode: 0o600 },
  );
  const store = openStore(join(d, 'agent.db'));
  const lines: string[] = [];
  const state = new StateLine(join(d, 'state'), (l) => lines.push(l));
  return { file, store, state, lines, provision: () => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> };
}

describe('enroll', () => {
  it('enrolls with device-made keys over pinned HTTPS, persists, then removes only the token', async () => {
    const f = fixture('ok');
    try {
      const e = await enroll({ store: f.store, provisionFile: f.file, log, state: f.state, backoff: fast });
      expect(e.siteId).toBe('store-042');
      const req = hub.requests.at(-1)!;
      const id = f.store.identity.get()!;
      expect(req).toMatchObject({
        token: 'tok-123',
        siteName: 'store-042',
        identityPublicKey: id.identityPublicKey,
        wireguardPublicKey: id.wireguardPublicKey,
      });
      expect(Buffer.from(id.wireguardPublicKey, 'base64')).toHaveLength(32);
      expect(f.store.identity.enrollment()?.broker.password).toBe('broker-secret-pw');
      expect(f.provision()).toEqual({ hubUrl: hub.url, caFingerprint: pki.caFingerprint, siteName: 'store-042', network: { address: '10.0.0.5/24' } });
      expect(f.lines).toEqual(['enrolling (attempt 1)', 'enrolled as site store-042']);
      // Later boots reuse the identity and need no token.
      const again = await enroll({ store: f.store, provisionFile: f.file, log, backoff: fast });
      expect(again.siteId).toBe('store-042');
    } finally {
      f.store.close();
    }
  });

  it('signs a fresh hub challenge into each attempt, and falls back to a v1 proof with a hub before challenges', async () => {
    const f = fixture('challenge');
    try {
      hub.answers.push({ status: 503, body: { code: 'HUB_BUSY', message: 'try later' } });
      await enroll({ store: f.store, provisionFile: f.file, log, backoff: fast });
      const [first, second] = hub.requests.slice(-2);
      expect(first.challenge).toBe(hub.issued.at(-2));
      expect(second.challenge).toBe(hub.issued.at(-1));
      expect(first.challenge).not.toBe(second.challenge);
    } finally {
      f.store.close();
    }
    const old = fixture('old-hub');
    hub.challenges = false;
    try {
      expect((await enroll({ store: old.store, provisionFile: old.file, log, backoff: fast })).siteId).toBe('store-042');
      expect(hub.requests.at(-1)).not.toHaveProperty('challenge');
    } finally {
      hub.challenges = true;
      old.store.close();
    }
  });

  it('refuses a hub whose chain lacks the pinned CA, and keeps the token', async () => {
    const f = fixture('mismatch', { caFingerprint: other.caFingerprint });
    const before = hub.requests.length;
    try {
      const err = await enroll({ store: f.store, provisionFile: f.file, log, state: f.state, backoff: fast }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgentError);
      expect((err as AgentError).code).toBe('ENROLL_CA_MISMATCH');
      expect((err as AgentError).hint).toMatch(/caFingerprint/);
      expect(hub.requests.length).toBe(before); // no request byte reached the impostor
      expect(f.provision().token).toBe('tok-123');
      expect(f.store.identity.enrollment()).toBeNull();
      expect(f.lines.at(-1)).toMatch(/^enrollment failed: .*ENROLL_CA_MISMATCH/);
    } finally {
      f.store.close();
    }
  });

  it('retries a failing hub with backoff, showing the attempt and the error', async () => {
    const f = fixture('retry');
    hub.answers.push({ status: 503, body: { code: 'HUB_BUSY', message: 'try later' } }, { status: 503, body: 'x' });
    try {
      const e = await enroll({ store: f.store, provisionFile: f.file, log, state: f.state, backoff: fast });
      expect(e.siteId).toBe('store-042');
      expect(f.lines).toContain('enrolling (attempt 3, hub answered HTTP 503)');
      expect(f.lines[1]).toBe('enrolling (attempt 2, hub answered HTTP 503: try later)');
      const keys = new Set(hub.requests.slice(-3).map((r) => r.identityPublicKey));
      expect(keys.size).toBe(1); // the same device key on every retry
    } finally {
      f.store.close();
    }
  });

  it('stops on an expired token with the fix, and keeps the token on disk', async () => {
    const f = fixture('expired');
    hub.answers.push({ status: 401, body: { code: 'ENROLL_TOKEN_EXPIRED', message: 'token expired at 2026-01-01' } });
    try {
      const err = (await enroll({ store: f.store, provisionFile: f.file, log, state: f.state, backoff: fast }).catch((e: unknown) => e)) as AgentError;
      expect(err.code).toBe('ENROLL_TOKEN_EXPIRED');
      expect(err.hint).toMatch(/fresh provisioning file/);
      expect(f.provision().token).toBe('tok-123');
    } finally {
      f.store.close();
    }
  });

  it('reports an unreachable hub after the given attempts', async () => {
    const f = fixture('down', { hubUrl: 'https://127.0.0.1:1' });
    try {
      const err = (await enroll({ store: f.store, provisionFile: f.file, log, state: f.state, attempts: 2, backoff: fast }).catch(
        (e: unknown) => e,
      )) as AgentError;
      expect(err.code).toBe('ENROLL_HUB_UNREACHABLE');
      expect(f.lines[1]).toBe('enrolling (attempt 2, hub unreachable: ECONNREFUSED)');
    } finally {
      f.store.close();
    }
  });

  it('with no route to the hub (ENETUNREACH) says `waiting for network`, never an enrollment attempt', async () => {
    // A TCP connect to a multicast address fails with a real ENETUNREACH from the kernel.
    const f = fixture('nonet', { hubUrl: 'https://224.0.0.1:443' });
    try {
      const err = (await enroll({ store: f.store, provisionFile: f.file, log, state: f.state, attempts: 3, backoff: fast, networkUp: () => true }).catch(
        (e: unknown) => e,
      )) as AgentError;
      expect(err.code).toBe('ENROLL_HUB_UNREACHABLE');
      expect(f.lines).toEqual([
        'enrolling (attempt 1)',
        'waiting for network',
        'enrollment failed: hub unreachable: ENETUNREACH (ENROLL_HUB_UNREACHABLE) (fix: check the uplink, DNS and the hub URL; `weft-agent doctor` tests the route)',
      ]);
    } finally {
      f.store.close();
    }
  });

  it('before the uplink is up (no default route) shows `waiting for network`, then enrolls as soon as the hub answers', async () => {
    const f = fixture('dhcp');
    let polls = 0;
    try {
      const e = await enroll({ store: f.store, provisionFile: f.file, log, state: f.state, backoff: fast, networkUp: () => polls++ > 0 });
      expect(e.siteId).toBe('store-042');
      // The hub here is on loopback, reachable without an uplink: the first try already succeeds.
      expect(f.lines).toEqual(['waiting for network', 'enrolled as site store-042']);
    } finally {
      f.store.close();
    }
  });

  it("without a default route but with the hub on the local link, shows the hub's answer, not `waiting for network`", async () => {
    const f = fixture('lan');
    hub.answers.push({ status: 503, body: { code: 'HUB_BUSY', message: 'try later' } });
    try {
      const e = await enroll({ store: f.store, provisionFile: f.file, log, state: f.state, backoff: fast, networkUp: () => false });
      expect(e.siteId).toBe('store-042');
      expect(f.lines).toEqual(['waiting for network', 'enrolling (attempt 2, hub answered HTTP 503: try later)', 'enrolled as site store-042']);
    } finally {
      f.store.close();
    }
  });

  it('names the file and field of a bad provisioning file', async () => {
    const f = fixture('bad', { caFingerprint: 'nope' });
    try {
      const err = (await enroll({ store: f.store, provisionFile: f.file, log }).catch((e: unknown) => e)) as AgentError;
      expect(err.code).toBe('PROVISION_BAD_FIELD');
      expect(err.message).toMatch(/weft-provision\.json: caFingerprint must be/);
    } finally {
      f.store.close();
    }
  });
});
