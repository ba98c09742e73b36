// MeshAgent over a fake tunnel (the real one is in field-tests/site-mesh.kernel.test.ts): what it
// configures for a peer bundle, how it moves a linked site's mapped block between the peer and the hub
// as the path changes, what it refuses, and that the store brings the links back.
import { generateKeyPairSync } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { keyIdOf, signMesh, type MeshPayload } from '../../policy/index.ts';
import type { DeviceState, PeerConfig } from '../../tunnel/index.ts';
import { MeshAgent, type MeshTunnel } from './mesh-agent.ts';
import type { NatPlan } from './nat.ts';

const signing = generateKeyPairSync('ed25519');
const trusted = new Map([[keyIdOf(signing.publicKey), signing.publicKey]]);
const payload = (generation: number, peers = 1): MeshPayload => ({
  kind: 'mesh',
  siteId: 'site-a',
  generation,
  issuedAt: 'x',
  self: { exportPrefix: '10.42.0.0/24', mappedPrefix: '100.64.2.0/24' },
  peers: Array.from({ length: peers }, () => ({
    siteId: 'site-b',
    publicKey: 'PEER',
    endpoints: ['203.0.113.20:40000'],
    overlay: ['10.99.0.3/32'],
    mappedPrefix: '100.64.3.0/24',
    namespaces: [],
    pods: [],
    services: [],
  })),
});

class FakeTunnel implements MeshTunnel {
  readonly ifname = 'weft0';
  peers = new Map<string, PeerConfig>();
  relayed: string[] = [];
  routes: string[] = [];
  state_: DeviceState = { publicKey: 'ME', listenPort: 51820, peers: [] };
  hubKey = () => 'HUB';
  setPeer = async (p: PeerConfig) => void this.peers.set(p.publicKey, p);
  removePeer = async (k: string) => void this.peers.delete(k);
  state = async () => this.state_;
  setHubRelayed = async (x: string[]) => void (this.relayed = x);
  setRoutes = async (x: string[]) => void (this.routes = x);
  see(rxBytes: number, handshakeMs: number | null, now: number) {
    this.state_ = {
      ...this.state_,
      peers: [
        { publicKey: 'HUB', endpoint: '203.0.113.1:51820', allowedIps: [], lastHandshakeMs: now - 1000, rxBytes: 1, txBytes: 1, persistentKeepaliveS: 5 },
        { publicKey: 'PEER', endpoint: '203.0.113.20:40000', allowedIps: [], lastHandshakeMs: handshakeMs, rxBytes, txBytes: 0, persistentKeepaliveS: 1 },
      ],
    };
  }
}

function agent(store = new Map<string, unknown>()) {
  let now = 1_000_000;
  const tunnel = new FakeTunnel();
  const nat: NatPlan[] = [];
  const a = new MeshAgent({
    siteId: 'site-a',
    tunnel,
    nat: async (p) => void nat.push(p),
    store: { get: (k) => store.get(k) as never, set: (k, v) => void store.set(k, v) },
    trustedKeys: () => trusted,
    log: pino({ level: 'silent' }),
    now: () => now,
  });
  return { a, tunnel, nat, store, advance: (ms: number) => (now += ms), now: () => now };
}

describe('MeshAgent', () => {
  it('configures the peer (relayed first: the block on the hub), maps addresses, then moves the block as the path changes', async () => {
    const t = agent();
    await t.a.accept(signMesh(payload(1), signing.privateKey));
    expect(t.nat.at(-1)).toEqual({ ifname: 'weft0', self: { exportPrefix: '10.42.0.0/24', mappedPrefix: '100.64.2.0/24' }, pool: '100.64.0.0/10' });
    expect(t.tunnel.routes).toEqual(['100.64.3.0/24']);
    expect(t.tunnel.peers.get('PEER')).toEqual({ publicKey: 'PEER', endpoint: '203.0.113.20:40000', allowedIps: ['10.99.0.3/32'], persistentKeepaliveS: 1 });
    expect(t.tunnel.relayed).toEqual(['100.64.3.0/24']);

    t.tunnel.see(0, null, t.now());
    await t.a.tick();
    expect(t.a.status()[0].state).toBe('relayed');
    t.advance(1000);
    t.tunnel.see(148, t.now() - 100, t.now());
    await t.a.tick();
    expect(t.a.status()[0].state).toBe('direct');
    expect(t.tunnel.peers.get('PEER')?.allowedIps).toEqual(['10.99.0.3/32', '100.64.3.0/24']);
    expect(t.tunnel.relayed).toEqual([]);
    expect(t.a.siteOf('100.64.3.7')).toBe('site-b');
    expect(t.a.siteOf('10.42.0.7')).toBeNull();

    t.advance(4000); // no bytes for 4 s
    await t.a.tick();
    expect(t.a.status()[0].state).toBe('relayed');
    expect(t.tunnel.relayed).toEqual(['100.64.3.0/24']);
    expect(t.tunnel.peers.get('PEER')?.allowedIps).toEqual(['10.99.0.3/32']);
  });

  it('refuses a forged or stale bundle and keeps what it has', async () => {
    const t = agent();
    await t.a.accept(signMesh(payload(5), signing.privateKey));
    await t.a.accept(signMesh(payload(4, 0), signing.privateKey));
    await t.a.accept(signMesh(payload(6, 0), generateKeyPairSync('ed25519').privateKey));
    expect(t.a.peers.map((p) => p.siteId)).toEqual(['site-b']);
    await t.a.accept(signMesh(payload(7, 0), signing.privateKey));
    expect(t.a.peers).toEqual([]);
    expect(t.tunnel.peers.size).toBe(0);
  });

  it('brings the links back from the store after a restart, without the hub', async () => {
    const first = agent();
    await first.a.accept(signMesh(payload(3), signing.privateKey));
    const again = agent(first.store);
    expect(await again.a.restore()).toBe(true);
    expect(again.tunnel.peers.get('PEER')?.endpoint).toBe('203.0.113.20:40000');
    expect(again.a.peers.map((p) => p.siteId)).toEqual(['site-b']);
  });
});
