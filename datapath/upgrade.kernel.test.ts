// An upgrade to a build with another map layout: the previous build (testdata/previous_version.bpf.c,
// one more map) enforces from its own layout directory while new flows stream; the new build loads
// into a fresh directory, applies, replaces the old programs on every veth and removes the old pins.
// Every packet must be judged by one whole build (old programs with old maps, or new with new), an
// established connection must survive (conntrack carried over), and the old maps must be freed.
import { waitFor } from '../base/index.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { artifactPaths, type ArtifactPaths } from './artifacts.ts';
import type { VerdictEvent } from './datapath.ts';
import { LibbpfDatapath } from './libbpf-datapath.ts';
import { native } from './native.ts';
import { fixtureTables, RULE } from './testing/tables.ts';
import { kernelSkipReason, uniquePinRoot } from './testing/kernel.ts';
import { Topology } from './testing/netns.ts';

const here = dirname(fileURLToPath(import.meta.url));
const hasClang = spawnSync('clang', ['--version']).status === 0;
if (!kernelSkipReason && !hasClang) console.warn('skipping the upgrade test: clang is missing to build the previous version (scripts/setup.mjs installs it)');
const pinRoot = uniquePinRoot();
const tmp = mkdtempSync(join(tmpdir(), 'wdp-upgrade-'));
let topo: Topology | undefined;
const opened: LibbpfDatapath[] = [];

afterAll(async () => {
  const last = opened.at(-1);
  if (last && topo) for (const p of topo.pods) await last.detach({ pod: p.name, ifindex: p.ifindex, ips: [] });
  for (const dp of opened) await dp.close();
  LibbpfDatapath.unpin(pinRoot);
  topo?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

function previousBuild(): ArtifactPaths {
  const obj = join(tmp, 'previous_version.o');
  const src = join(here, '..', 'bpf', 'testdata', 'previous_version.bpf.c');
  execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-D__TARGET_ARCH_x86', `-I${artifactPaths().objectDir}`, '-c', src, '-o', obj]);
  return { ...artifactPaths(), objects: { podEgress: obj, podIngress: obj } };
}

function collect(dp: LibbpfDatapath): VerdictEvent[] {
  const events: VerdictEvent[] = [];
  void (async () => {
    for await (const e of dp.events()) events.push(e);
  })();
  return events;
}

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  await waitFor(cond, { what, timeoutMs: 20_000, intervalMs: 20 });
}

function mapExists(id: number): boolean {
  return spawnSync('bpftool', ['map', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0;
}

it.skipIf(kernelSkipReason || !hasClang)(
  'upgrades to another map layout with every packet judged by one whole build',
  async () => {
    topo = Topology.create(['web', 'db', 'api'], 86);
    const [web, db, api] = topo.pods;
    const addrs = { web: web.ip, db: db.ip, api: api.ip };
    const opts = { pinRoot, netns: topo.nodeNetnsPath, allowSampleRate: 1, ringBufferBytes: 16 << 20 };

    const old = await LibbpfDatapath.open({ ...opts, artifacts: previousBuild() });
    opened.push(old);
    await old.apply(fixtureTables(addrs), 5);
    for (const p of topo.pods) await old.attach({ pod: `shop/${p.name}`, ifindex: p.ifindex, ips: [p.ip] });
    // The layouts differ, so the builds pin into different directories.
    expect(LibbpfDatapath.layoutRoot(pinRoot)).not.toBe(old.layoutRoot);
    expect(readdirSync(old.layoutRoot)).toContain('weft_retired');
    const bpf = native();
    const retiredFd = bpf.objGet(join(old.layoutRoot, 'weft_retired'));
    const retiredId = bpf.mapInfo(retiredFd).id;
    bpf.closeFd(retiredFd);

    // db -> web, then web pushes on it: at db's isolated ingress that passes only by conntrack.
    const dbProbe = topo.probe('db');
    const webProbe = topo.probe('web');
    expect((await webProbe.pushServer(8080)).ok).toBe(true);
    expect((await dbProbe.listen('udp', 5002)).ok).toBe(true);
    expect((await dbProbe.hold(addrs.web, 8080)).ok).toBe(true);
    expect((await webProbe.push()).ok).toBe(true);
    expect((await dbProbe.heard()).ok).toBe(true);

    // New flows all through the upgrade: web -> db udp 5002 is allowed, api -> db udp 5002 denied.
    const oldEvents = collect(old);
    const isFlow = (e: VerdictEvent) => e.endpointId === 2 && e.proto === 17 && e.dport === 5002;
    const sawBoth = (events: VerdictEvent[]) => events.some((e) => isFlow(e) && e.src === addrs.web) && events.some((e) => isFlow(e) && e.src === addrs.api);
    // Paced, so that conntrack (65536 entries, LRU) keeps the held connection.
    const allowed = webProbe.blast(addrs.db, 5002, 60_000, 2);
    const denied = topo.probe('api').blast(addrs.db, 5002, 60_000, 2);
    await until('the old build to judge both flows', () => sawBoth(oldEvents));

    const next = await LibbpfDatapath.open(opts);
    opened.push(next);
    expect(next.pendingPredecessors).toEqual([old.layoutRoot]);
    const newEvents = collect(next);
    await next.apply(fixtureTables(addrs), 6);
    // The apply itself swapped the programs (the agent's own attach comes later) and retired the old pins.
    expect(next.pendingPredecessors).toEqual([]);
    expect(readdirSync(pinRoot)).toEqual([basename(next.layoutRoot)]);
    for (const p of topo.pods) expect(next.attached(p.ifindex)).toBe(true);
    await until('the new build to judge both flows', () => sawBoth(newEvents));
    await webProbe.stop();
    await topo.probe('api').stop();
    const sent = [(await allowed).sent ?? 0, (await denied).sent ?? 0];
    old.drainEvents();
    next.drainEvents();

    // The established connection survived the switch to an empty conntrack of the new build.
    expect((await webProbe.push()).ok).toBe(true);
    expect((await dbProbe.heard()).ok).toBe(true);

    const judged = [...oldEvents, ...newEvents].filter(isFlow);
    const wrong = judged.filter((e) =>
      e.src === addrs.web ? e.verdict !== 'allow' || e.ruleId !== RULE.dbUdp : e.verdict !== 'deny' || e.ruleId !== RULE.isolation,
    );
    console.info(
      `upgrade test: ${sent.join(' allowed + ')} denied flows sent; judged and reported: ${oldEvents.filter(isFlow).length} by the old build, ${newEvents.filter(isFlow).length} by the new`,
    );
    expect(wrong).toEqual([]);
    // What arrived: every allowed datagram, no denied one (a gap between the programs would let some pass).
    let received: Record<string, number> = {};
    await until('the allowed datagrams to arrive', async () => ((received = await dbProbe.received())[addrs.web] ?? 0) >= sent[0]).catch(() => undefined);
    expect({ web: received[addrs.web] ?? 0, api: received[addrs.api] ?? 0 }).toEqual({ web: sent[0], api: 0 });
    expect(new Set(oldEvents.map((e) => e.generation))).toEqual(new Set([5]));
    expect(new Set(newEvents.map((e) => e.generation))).toEqual(new Set([6]));
    expect([(await old.counters()).eventsLost, (await next.counters()).eventsLost]).toEqual([0n, 0n]);

    // Once the old agent lets go of its handles, nothing holds the old maps: the kernel frees them.
    await old.close();
    await until('the old maps to be freed', () => !mapExists(retiredId));
  },
  90_000,
);

it.skipIf(kernelSkipReason)('retires maps pinned directly in the pin root by builds from before layout directories', async () => {
  const root = uniquePinRoot();
  const bpf = native();
  const paths = artifactPaths();
  // What earlier releases did: libbpf pinned the maps by name in the pin root itself.
  const legacy = new bpf.BpfObject(paths.objects.podEgress, root, {});
  legacy.close();
  mkdirSync(join(root, 'unrelated'));
  const loose = readdirSync(root).filter((f) => f.startsWith('weft_'));
  expect(loose.length).toBeGreaterThan(5);
  const dp = await LibbpfDatapath.open({ pinRoot: root });
  try {
    expect(dp.pendingPredecessors).toEqual([root]);
    await dp.apply(fixtureTables({ web: '10.87.0.2', db: '10.87.0.3', api: '10.87.0.4' }), 1);
    expect(dp.pendingPredecessors).toEqual([]);
    // Only our maps went: another directory under the pin root is not ours to remove.
    expect(readdirSync(root).sort()).toEqual([basename(dp.layoutRoot), 'unrelated'].sort());
    // An upgrade killed between its first apply and the retirement: the next open finishes it,
    // since the new layout already holds a whole generation.
    new bpf.BpfObject(paths.objects.podEgress, root, {}).close();
    const resumed = await LibbpfDatapath.open({ pinRoot: root });
    await resumed.close();
    expect(resumed.pendingPredecessors).toEqual([]);
    expect(readdirSync(root).sort()).toEqual([basename(dp.layoutRoot), 'unrelated'].sort());
  } finally {
    await dp.close();
    LibbpfDatapath.unpin(root);
  }
});
