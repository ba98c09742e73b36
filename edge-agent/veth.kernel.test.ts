// Finding a pod's host-side veth, for real: pods in network namespaces this test creates, one reached by a
// per-pod route (calico-style), one only through its namespace (bridge-style CNIs leave no route). Then the
// enforcer with the kernel datapath attaches tc programs to both and detaches them when the pods go.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibbpfDatapath } from '../datapath/index.ts';
import { kernelSkipReason, uniquePinRoot } from '../datapath/testing/index.ts';
import { compile } from '../policy/index.ts';
import { Enforcer } from './enforcer.ts';
import { createLogger } from './logger.ts';
import { dbFromWeb, kubePod, SITE } from './testing/fixtures.ts';
import { waitFor } from '../base/index.ts';
import { netnsVethResolver, podDevices, podVethResolver, routeVethResolver, type RouteEntry } from './veth.ts';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const tag = `${process.pid % 100000}`;
const subnet = `10.231.${process.pid % 250}`;
// routed: a /32 route to its veth; bridged: no route, found only in its namespace.
const pods = [
  { name: 'routed', netns: `wag-${tag}-routed`, hostIf: `wag${tag}r`, ip: `${subnet}.2`, route: true },
  { name: 'bridged', netns: `wag-${tag}-bridged`, hostIf: `wag${tag}b`, ip: `${subnet}.3`, route: false },
];
const canRun = process.getuid?.() === 0 ? null : 'needs root to create network namespaces';
if (canRun) console.warn(`skipping veth tests: ${canRun}`);
const ifindexOf = (name: string) => Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());

// Another node's pods: its veth has, in its own namespace, the index of one of our host veths, and the
// pods' eth0 have the same index everywhere, so only the peer namespace id tells the two apart.
const decoy = {
  node: `wag-${tag}-nodeb`,
  own: `wag-${tag}-own`,
  pod: `wag-${tag}-decoy`,
  hostIf: `wag${tag}x`,
  ownIp: `${subnet}.12`,
  decoyIp: `${subnet}.13`,
};

function cleanup(): void {
  try {
    ip('link', 'del', decoy.hostIf);
  } catch {
    /* gone with its namespace */
  }
  for (const ns of [decoy.node, decoy.own, decoy.pod])
    try {
      ip('netns', 'del', ns);
    } catch {
      /* never made */
    }
  for (const p of pods) {
    try {
      ip('link', 'del', p.hostIf);
    } catch {
      /* gone with its namespace */
    }
    try {
      ip('netns', 'del', p.netns);
    } catch {
      /* never made */
    }
  }
}

beforeAll(() => {
  if (canRun) return;
  cleanup();
  for (const p of pods) {
    ip('netns', 'add', p.netns);
    ip('link', 'add', p.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.netns);
    ip('link', 'set', p.hostIf, 'up');
    ip('-n', p.netns, 'addr', 'add', `${p.ip}/32`, 'dev', 'eth0');
    ip('-n', p.netns, 'link', 'set', 'eth0', 'up');
    if (p.route) ip('route', 'add', `${p.ip}/32`, 'dev', p.hostIf);
  }
  for (const ns of [decoy.node, decoy.own, decoy.pod]) ip('netns', 'add', ns);
  let index = 30000 + (process.pid % 20000);
  while (ip('-j', 'link', 'show').includes(`"ifindex":${index},`)) index++;
  ip('link', 'add', decoy.hostIf, 'index', `${index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', decoy.own);
  ip('-n', decoy.node, 'link', 'add', 'vb', 'index', `${index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', decoy.pod);
  for (const [ns, addr] of [
    [decoy.own, decoy.ownIp],
    [decoy.pod, decoy.decoyIp],
  ]) {
    ip('-n', ns, 'addr', 'add', `${addr}/32`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  }
  ip('link', 'set', decoy.hostIf, 'up');
});
afterAll(cleanup);

describe("podDevices: the kernel's choice, from one route dump", () => {
  const routes: RouteEntry[] = [
    { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
    { dst: '192.0.2.0/24', dev: 'eth0' },
    { dst: '10.42.0.0/16', gateway: '192.0.2.9', dev: 'eth0' },
    { dst: '10.42.0.5', dev: 'cali1' },
    { dst: '10.42.0.6', dev: 'cali2', metric: 10 },
    { dst: '10.42.0.6', dev: 'cali9', metric: 5 },
    { dst: '10.42.1.0/24', dev: 'cni0' },
    { dst: '10.42.2.0/24', type: 'blackhole' },
    { dst: '10.42.3.7', dev: 'lo' },
    { type: 'local', dst: '192.0.2.2', dev: 'eth0', table: 'local' },
    { type: 'local', dst: '127.0.0.0/8', dev: 'lo', table: 'local' },
    { dst: '10.42.4.4', dev: 'other', table: '2004' },
    { dst: 'fd00:42::5', dev: 'cali6', metric: 1024 },
    { dst: 'fd00:42::/64', gateway: 'fd00::1', dev: 'eth0' },
  ];
  it.each([
    ['10.42.0.5', 'cali1'], // the per-pod /32 beats the /16 through a gateway
    ['10.42.0.6', 'cali9'], // two routes for one prefix: the lower metric
    ['10.42.1.3', 'cni0'], // a bridge: a device, the veth check after the dump rejects it
    ['fd00:42::5', 'cali6'],
    ['10.42.0.7', undefined], // only the gateway route
    ['10.42.2.1', undefined], // blackhole
    ['10.42.3.7', undefined], // lo
    ['192.0.2.2', undefined], // a local address (a hostNetwork pod): the local table is consulted first
    ['127.0.0.5', undefined],
    ['10.42.4.4', undefined], // a policy-routing table is not the main table: ignored, falls to the gateway
    ['fd00:42::6', undefined],
    ['not-an-ip', undefined],
  ])('%s -> %s', (ip, want) => expect(podDevices(routes, [ip]).get(ip)).toBe(want));

  it('answers a thousand pods from one dump', () => {
    const many = Array.from({ length: 1000 }, (_, i) => `10.50.${i >> 8}.${i & 255}`);
    const dump = many.map((dst, i) => ({ dst, dev: `v${i}` }));
    const got = podDevices(dump, many);
    expect(got.size).toBe(1000);
    expect(got.get('10.50.3.231')).toBe('v999');
  });
});

describe.skipIf(canRun)('pod veth from IP or namespace', () => {
  it('route lookup finds the routed pod only; the namespace search finds the bridged one; together both', async () => {
    const [routed, bridged] = pods;
    const want = (p: (typeof pods)[number]) => ({ ifindex: ifindexOf(p.hostIf), ifname: p.hostIf });
    expect((await routeVethResolver([routed.ip, bridged.ip])).get(routed.ip)).toEqual(want(routed));
    expect((await routeVethResolver([bridged.ip])).has(bridged.ip)).toBe(false);
    expect((await netnsVethResolver()([bridged.ip])).get(bridged.ip)).toEqual(want(bridged));
    const both = await podVethResolver()([routed.ip, bridged.ip, `${subnet}.99`]);
    expect(both).toEqual(
      new Map([
        [routed.ip, want(routed)],
        [bridged.ip, want(bridged)],
      ]),
    );
  });

  it("never pairs a pod with our veth by index alone: another node's pod behind the same indexes is not ours", async () => {
    const eth0Index = (ns: string) => Number(ip('-n', ns, 'link', 'show', 'eth0').split(':')[0]);
    expect(eth0Index(decoy.pod)).toBe(eth0Index(decoy.own)); // the trap is set: same indexes both ways
    const found = await netnsVethResolver()([decoy.ownIp, decoy.decoyIp]);
    expect(found).toEqual(new Map([[decoy.ownIp, { ifindex: ifindexOf(decoy.hostIf), ifname: decoy.hostIf }]]));
  });

  it.skipIf(kernelSkipReason)('the enforcer attaches tc programs to both veths and detaches them when the pods go', async () => {
    const pinRoot = uniquePinRoot().replace('weft-test-', 'wag-veth-');
    const dp = await LibbpfDatapath.open({ pinRoot });
    const log = createLogger({ level: 'silent' });
    const enforcer = new Enforcer({ datapath: dp, compile, resolveVeth: podVethResolver(), log, nodeName: 'node-1', debounceMs: 20 });
    const snapshot = (names: string[]) => ({
      namespaces: [{ name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } }],
      pods: pods.filter((p) => names.includes(p.name)).map((p) => kubePod('shop', p.name, p.name === 'routed' ? 'db' : 'web', p.ip)),
      policies: [],
      nodes: [],
      crds: { clusterNetworkPolicies: false, adminNetworkPolicies: false, baselineAdminNetworkPolicies: false },
    });
    try {
      enforcer.seedInventory(snapshot(['routed', 'bridged']));
      await enforcer.applyBundle(enforcer.prepare({ siteId: SITE, generation: 1, issuedAt: '2026-11-29T00:00:00Z', policyVersion: 1, policies: [dbFromWeb] }));
      expect(enforcer.attached.map((e) => e.ifname).sort()).toEqual(pods.map((p) => p.hostIf).sort());
      for (const p of pods) expect(dp.attached(ifindexOf(p.hostIf))).toBe(true);

      enforcer.setInventory(snapshot(['routed']));
      await waitFor(() => enforcer.attached.length === 1, { timeoutMs: 10_000, what: 'detach of the bridged pod' });
      await enforcer.idle();
      expect(dp.attached(ifindexOf(pods[1].hostIf))).toBe(false);
      expect(dp.attached(ifindexOf(pods[0].hostIf))).toBe(true);

      // The pod's namespace is deleted with its veth before the inventory says so: detach must not throw.
      const routedIf = pods[0].hostIf;
      ip('netns', 'del', pods[0].netns);
      await waitFor(
        () => {
          try {
            readFileSync(`/sys/class/net/${routedIf}/ifindex`);
            return false;
          } catch {
            return true;
          }
        },
        { timeoutMs: 10_000, what: 'veth gone' },
      );
      enforcer.setInventory(snapshot([]));
      await waitFor(() => enforcer.attached.length === 0, { timeoutMs: 10_000, what: 'detach of the vanished pod' });
    } finally {
      await enforcer.close();
      for (const e of enforcer.attached) await dp.detach(e).catch(() => undefined);
      await dp.close();
      LibbpfDatapath.unpin(pinRoot);
    }
  });
});
