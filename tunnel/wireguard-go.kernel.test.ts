// Real wireguard-go between two network namespaces joined by a veth "WAN": traffic through the
// overlay, handshake age, UAPI errors, the wg-tool control path, crash recovery, peer removal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { run } from './exec.ts';
import { ip } from './iproute2.ts';
import { WgPrivateKey } from './keys.ts';
import { HubTunnel } from './hub-tunnel.ts';
import { SiteTunnel } from './site-tunnel.ts';
import { OverlayPlan } from './overlay.ts';
import { chooseBackend, kernelWireguardAvailable, wireguardGoAvailable } from './backend.ts';
import { WgToolControl } from './wg-tool.ts';
import { UapiClient, uapiSocketPath } from './uapi.ts';
import { WireguardGoDevice } from './wireguard-go-device.ts';
import { registerTunnelMetrics } from './metrics.ts';
import { WgInterface } from './wg-interface.ts';
import { Registry } from 'prom-client';

const isRoot = process.getuid?.() === 0;
const hasWgGo = await wireguardGoAvailable();
const skip = !isRoot || !hasWgGo;
if (skip) console.warn(`tunnel/wireguard-go.kernel.test.ts skipped: ${!isRoot ? 'needs root for network namespaces' : 'wireguard-go is not installed'}`);

// Named like the field-test harness names its runs (wft-<pid>-<tag>-...), so that if this process
// is killed before afterAll, the next harness run sweeps what it left.
const r = randomBytes(2).toString('hex');
const hubNs = `wft-${process.pid}-${r}-hub`;
const siteNs = `wft-${process.pid}-${r}-site`;
const hubIf = `wft${r}h`;
const siteIf = `wft${r}s`;
const ECHO_PORT = 7000;
const plan = new OverlayPlan('10.99.0.0/24', 'fd00:99::/64');
const hubAddresses = plan.hubInterface();

const hub = new HubTunnel({ ifname: hubIf, netns: hubNs, privateKey: WgPrivateKey.generate(), listenPort: 51820, addresses: hubAddresses });
const site = new SiteTunnel({ ifname: siteIf, netns: siteNs, privateKey: WgPrivateKey.generate(), backoff: { initialMs: 50 } });
const siteAddresses = plan.hostRoutes(2);
const echoServers: ChildProcess[] = [];

/** One TCP round trip from the site to the hub's overlay address; the echoed text, or null. */
async function echo(target: string): Promise<string | null> {
  try {
    const { stdout } = await run(['socat', '-t', '2', '-T', '3', '-', `${target},connect-timeout=2`], { netns: siteNs, input: 'through the tunnel\n' });
    return stdout.trim();
  } catch {
    return null;
  }
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe.skipIf(skip)('tunnel over real wireguard-go in two namespaces', () => {
  beforeAll(async () => {
    await run(['ip', 'netns', 'add', hubNs]);
    await run(['ip', 'netns', 'add', siteNs]);
    await ip(['link', 'add', `wv${r}a`, 'netns', hubNs, 'type', 'veth', 'peer', 'name', `wv${r}b`, 'netns', siteNs]);
    await ip(['addr', 'add', '192.0.2.1/24', 'dev', `wv${r}a`], { netns: hubNs });
    await ip(['addr', 'add', '192.0.2.2/24', 'dev', `wv${r}b`], { netns: siteNs });
    for (const [ns, dev] of [
      [hubNs, `wv${r}a`],
      [siteNs, `wv${r}b`],
    ]) {
      await ip(['link', 'set', 'dev', dev, 'up'], { netns: ns });
      await ip(['link', 'set', 'dev', 'lo', 'up'], { netns: ns });
    }
    await hub.up();
    // As at enrollment: the hub knows the site's key before the site first dials in.
    await hub.addPeer('site-a', site.publicKey, siteAddresses);
    await site.up({
      hubPublicKey: hub.publicKey,
      hubEndpoint: `192.0.2.1:51820`,
      addresses: siteAddresses,
      hubAddresses: ['10.99.0.1', 'fd00:99::1'],
      persistentKeepaliveS: 1,
      mtu: 1380,
    });
    for (const listen of [`TCP4-LISTEN:${ECHO_PORT},fork,reuseaddr`, `TCP6-LISTEN:${ECHO_PORT},fork,reuseaddr,ipv6only=1`]) {
      echoServers.push(spawn('ip', ['netns', 'exec', hubNs, 'socat', listen, 'EXEC:cat'], { stdio: 'ignore' }));
    }
  });

  afterAll(async () => {
    for (const s of echoServers) s.kill('SIGKILL');
    await site.down().catch(() => {});
    await hub.down().catch(() => {});
    for (const ns of [hubNs, siteNs]) await run(['ip', 'netns', 'del', ns]).catch(() => {});
  });

  it('detects that the kernel module is missing and falls back to wireguard-go', async () => {
    const kernel = await kernelWireguardAvailable(siteNs);
    if (kernel) console.warn('this kernel has the WireGuard module: auto picks the kernel backend here');
    expect(await chooseBackend('auto', siteNs)).toBe(kernel ? 'kernel' : 'wireguard-go');
    if (!kernel) await expect(chooseBackend('kernel', siteNs)).rejects.toMatchObject({ code: 'TUNNEL_BACKEND_UNAVAILABLE' });
    expect(site.current.current.kind).toBe('wireguard-go');
    // the tun device lives in the site namespace, not on the host
    expect((await ip(['link', 'show', 'dev', siteIf], { netns: siteNs })).stdout).toContain('mtu 1380');
    await expect(ip(['link', 'show', 'dev', siteIf])).rejects.toMatchObject({ code: 'TUNNEL_COMMAND_FAILED' });
  });

  it('carries TCP over IPv4 and IPv6 overlay addresses, and reports handshake age', async () => {
    expect(
      await eventually(
        () => echo(`TCP4:10.99.0.1:${ECHO_PORT}`),
        (v) => v !== null,
        10_000,
      ),
    ).toBe('through the tunnel');
    expect(await echo(`TCP6:[fd00:99::1]:${ECHO_PORT}`)).toBe('through the tunnel');
    const age = await site.handshakeAgeS();
    expect(typeof age).toBe('number');
    expect(age).toBeGreaterThanOrEqual(0);
    const [peer] = await hub.peers();
    expect(peer).toMatchObject({
      siteId: 'site-a',
      publicKey: site.publicKey,
      addresses: siteAddresses,
      endpoint: expect.stringMatching(/^192\.0\.2\.2:\d+$/),
    });
    expect(peer.handshakeAgeS).toEqual(expect.any(Number));
    expect(peer.rxBytes).toBeGreaterThan(0);
    expect(peer.txBytes).toBeGreaterThan(0);
    const registry = new Registry();
    registerTunnelMetrics(registry, hub);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/weft_tunnel_handshake_age_seconds\{site="site-a"\} \d/);
    expect(metrics).toMatch(/weft_tunnel_rx_bytes\{site="site-a"\} [1-9]/);
    // a site that never dialed in has no handshake age
    const silent = WgPrivateKey.generate().publicKey();
    await hub.addPeer('site-silent', silent, plan.hostRoutes(3));
    expect((await hub.peers()).find((p) => p.siteId === 'site-silent')).toMatchObject({
      handshakeAgeS: null,
      endpoint: null,
      addresses: ['10.99.0.3/32', 'fd00:99::3/128'],
    });
    await hub.removePeer('site-silent');
  });

  it('parses errno replies from the real daemon', async () => {
    const client = new UapiClient(uapiSocketPath(siteIf));
    const bogus = WgPrivateKey.generate().publicKey();
    await expect(client.set({ peers: [{ publicKey: bogus, endpoint: 'not-an-endpoint' }] })).rejects.toMatchObject({
      code: 'TUNNEL_UAPI_ERRNO',
      detail: { errno: expect.any(Number) },
    });
    // A set is applied line by line: the peer was created before its endpoint was refused.
    expect((await client.get()).peers.map((p) => p.publicKey)).toContain(bogus);
    await client.set({ peers: [{ publicKey: bogus, remove: true }] });
    // WgInterface undoes such half-applied peers itself.
    await expect(site.current.setPeer({ publicKey: bogus, endpoint: 'not-an-endpoint' })).rejects.toMatchObject({ code: 'TUNNEL_UAPI_ERRNO' });
    expect((await client.get()).peers.map((p) => p.publicKey)).toEqual([hub.publicKey]);
    await expect(client.request('set=1\npublic_key=zz\n\n')).resolves.toMatch(/^errno=-?[1-9]\d*\n\n$/);
    await expect(new UapiClient(uapiSocketPath(`nosuch${r}`)).get()).rejects.toMatchObject({ code: 'TUNNEL_UAPI_CONNECT' });
  });

  it('the wg-tool control path (used for the kernel backend) reads and writes the same device', async () => {
    const tool = new WgToolControl(siteIf, siteNs);
    const viaTool = await tool.get();
    const viaUapi = await site.current.state();
    expect(viaTool.publicKey).toBe(site.publicKey);
    expect(viaTool.peers.map((p) => [p.publicKey, p.allowedIps.sort()])).toEqual(viaUapi.peers.map((p) => [p.publicKey, p.allowedIps.sort()]));
    const extra = WgPrivateKey.generate().publicKey();
    await tool.set({ peers: [{ publicKey: extra, allowedIps: ['10.250.0.1/32'], persistentKeepaliveS: 7 }] });
    await tool.set({ peers: [{ publicKey: extra, allowedIps: ['10.250.0.2/32'] }] });
    const added = (await site.current.state()).peers.find((p) => p.publicKey === extra);
    expect(added).toMatchObject({ allowedIps: ['10.250.0.1/32', '10.250.0.2/32'], persistentKeepaliveS: 7 });
    await tool.set({ peers: [{ publicKey: extra, remove: true }] });
    expect((await site.current.state()).peers.map((p) => p.publicKey)).toEqual([hub.publicKey]);
  });

  it('restarts wireguard-go after kill -9 and the tunnel recovers', async () => {
    const dev = site.current.current as WireguardGoDevice;
    const before = dev.pid as number;
    const portBefore = (await site.current.state()).listenPort;
    const ready = new Promise<number>((res) => dev.supervisor.once('ready', res));
    process.kill(before, 'SIGKILL');
    const after = await ready;
    expect(after).not.toBe(before);
    expect(existsSync(uapiSocketPath(siteIf))).toBe(true);
    expect(
      await eventually(
        () => echo(`TCP4:10.99.0.1:${ECHO_PORT}`),
        (v) => v !== null,
        15_000,
      ),
    ).toBe('through the tunnel');
    expect(dev.supervisor.restarts).toBe(1);
    // the new daemon listens where the old one did, so the hub's idea of our endpoint stays right
    expect((await site.current.state()).listenPort).toBe(portBefore);
  });

  it('a hub daemon killed with -9 comes back and re-dials the sites it has seen', async () => {
    const dev = hub.iface.current as WireguardGoDevice;
    const ready = new Promise<number>((res) => dev.supervisor.once('ready', res));
    process.kill(dev.pid as number, 'SIGKILL');
    await ready;
    // the restarted daemon was given the endpoint seen before the crash
    expect((await hub.peers())[0].endpoint).toMatch(/^192\.0\.2\.2:\d+$/);
    // WireGuard alone would wait for the site's rekey timers (~15 s); with the endpoint it is at once
    expect(
      await eventually(
        () => echo(`TCP4:10.99.0.1:${ECHO_PORT}`),
        (v) => v !== null,
        10_000,
      ),
    ).toBe('through the tunnel');
  });

  it('removing the peer on the hub (revocation) stops traffic', async () => {
    expect(await echo(`TCP4:10.99.0.1:${ECHO_PORT}`)).toBe('through the tunnel');
    await hub.removePeer('site-a');
    expect(await hub.peers()).toEqual([]);
    expect((await hub.iface.state()).peers).toEqual([]);
    expect(await echo(`TCP4:10.99.0.1:${ECHO_PORT}`)).toBeNull();
  });

  it('a link that cannot be configured is not left behind, and the error says why', async () => {
    const bad = new WgInterface({ ifname: `wft${r}x`, netns: siteNs, privateKey: WgPrivateKey.generate(), addresses: ['10.99.0.300/32'] });
    await expect(bad.up()).rejects.toMatchObject({ code: 'TUNNEL_COMMAND_FAILED', message: expect.stringContaining('10.99.0.300/32') });
    expect(existsSync(uapiSocketPath(`wft${r}x`))).toBe(false);
    await expect(ip(['link', 'show', 'dev', `wft${r}x`], { netns: siteNs })).rejects.toMatchObject({ code: 'TUNNEL_COMMAND_FAILED' });
    await expect(bad.state()).rejects.toMatchObject({ code: 'TUNNEL_NOT_UP' });
  });

  it('takes over an interface whose daemon outlived its supervisor (kill -9 of the agent)', async () => {
    const name = `wft${r}o`;
    // an unsupervised daemon holding the name, as a crashed agent leaves it
    const orphan = spawn('ip', ['netns', 'exec', siteNs, 'wireguard-go', '-f', name], { stdio: 'ignore', env: { ...process.env, WG_PROCESS_FOREGROUND: '1' } });
    const orphanExit = new Promise<void>((res) => orphan.once('exit', () => res()));
    const again = new WgInterface({ ifname: name, netns: siteNs, privateKey: WgPrivateKey.generate(), addresses: ['10.99.0.9/32'] });
    try {
      expect(
        await eventually(
          async () => existsSync(uapiSocketPath(name)),
          (v) => v,
          5000,
        ),
      ).toBe(true);
      await again.up();
      await orphanExit;
      expect((again.current as WireguardGoDevice).pid).not.toBe(orphan.pid);
      expect((await again.state()).publicKey).toBe(again.publicKey);
    } finally {
      await again.down();
      orphan.kill('SIGKILL');
    }
  });

  it('down() stops the daemon and removes the link and socket', async () => {
    const pid = (site.current.current as WireguardGoDevice).pid as number;
    await site.down();
    expect(existsSync(uapiSocketPath(siteIf))).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(ip(['link', 'show', 'dev', siteIf], { netns: siteNs })).rejects.toMatchObject({ code: 'TUNNEL_COMMAND_FAILED' });
    expect(await site.handshakeAgeS()).toBeNull();
  });
});
