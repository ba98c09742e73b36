// A real hub in a temp dir for tests: real SQLite, real CA, real broker on port 0, real HTTPS.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type HubConfig } from '../config.ts';
import { MemoryPeers } from '../enroll/peers.ts';
import { startHub, type Hub } from '../main.ts';

export interface TestHub {
  hub: Hub;
  dir: string;
  admin: string;
  peers: MemoryPeers;
  /** app.inject with a bearer token (default: the admin's); resolves to status and parsed JSON (untyped: tests read what they assert). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  api<T = any>(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T }>;
  /** Stops the hub; the data dir stays for a restart. */
  stop(): Promise<void>;
  /** A new hub on the same data dir (a restart). */
  restart(patch?: (c: HubConfig) => void): Promise<void>;
  /** Stops and removes the data dir. */
  close(): Promise<void>;
}

export async function startTestHub(patch: (c: HubConfig) => void = () => {}, dir = mkdtempSync(join(tmpdir(), 'weft-hub-'))): Promise<TestHub> {
  const peers = new MemoryPeers();
  const make = async (p: (c: HubConfig) => void) => {
    const c = defaultConfig(dir);
    c.httpsPort = 0;
    c.httpsHost = '127.0.0.1';
    c.httpPort = 0;
    c.mqtt = { hosts: ['127.0.0.1'], port: 0 };
    c.logLevel = process.env.WEFT_TEST_LOG ?? 'silent';
    c.rolloutTickMs = 200;
    c.wireguard.peers = peers;
    c.keyRotation = { activationDelayMs: 0, overlapMs: 3600_000 };
    patch(c);
    p(c);
    return startHub(c);
  };
  const t: TestHub = {
    hub: await make(() => {}),
    dir,
    admin: '',
    peers,
    async api<T>(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, body?: unknown, token?: string | null) {
      const tok = token === undefined ? t.admin : token;
      const res = await t.hub.app.inject({
        method,
        url,
        payload: body as object | undefined,
        headers: tok ? { authorization: `Bearer ${tok}` } : {},
      });
      return { status: res.statusCode, body: (res.body ? res.json() : undefined) as T };
    },
    async stop() {
      await t.hub.close();
    },
    async restart(p = () => {}) {
      t.hub = await make(p);
    },
    async close() {
      await t.hub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.admin = readFileSync(t.hub.adminTokenFile, 'utf8').trim();
  return t;
}
