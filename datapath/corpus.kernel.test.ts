// The kernel agrees with the outside corpora, not only with the evaluator: every case of both
// conformance corpora (NetworkPolicy + ANP/BANP, and the same cases as ClusterNetworkPolicy), its pods
// in network namespaces behind the compiled tables, and real TCP, UDP and SCTP packets for a fixed,
// seeded sample of the case's queries. Each delivered or dropped first packet must be the verdict the
// independent analyzer expects.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cidrContains, parseCidr, parseIp } from '../base/pure.ts';
import { compile, evaluate, loadPolicies, parseManifests, type Flow, type Inventory, type PolicySet } from '../policy/index.ts';
import { caseManifests, conformanceDir, corpusCases, isAddress, sampleQueries, type CorpusCase, type Probed } from './testing/corpus.ts';
import { kernelSkipReason, openTestDatapath } from './testing/kernel.ts';
import { EXTERNAL, Topology } from './testing/netns.ts';

const SAMPLE = 16; // queries probed per case
const RUNNER_QUERIES = 2000; // of the runner's queries per case, the pool the sample is drawn from
const TIMEOUT_MS = 3000; // a first packet not answered by then was dropped
// A /24 for the pods that no sampled verdict depends on (a case's ipBlock or networks peers may cover one).
const POD_PREFIXES = ['10.77.0', '172.31.77', '100.77.0', '198.18.77', '192.168.77'];
const CORPORA = ['netpol-analyzer', 'netpol-analyzer-cnp'];

const skip = kernelSkipReason ?? (conformanceDir() ? undefined : '../shared/conformance is not beside the checkout');
if (skip) console.warn(`skipping the kernel corpus test: ${skip}`);

interface Loaded {
  policies: PolicySet;
  inventory: Inventory;
}

function load(c: CorpusCase): Loaded {
  const parsed = parseManifests(caseManifests(c));
  const loaded = loadPolicies(parsed.objects);
  const errors = [...parsed.errors, ...loaded.errors];
  if (errors.length > 0) throw new Error(`${c.name}: ${errors.map((e) => e.message).join('; ')}`);
  return loaded;
}

const withIps = (inv: Inventory, prefix: string): Inventory => ({ ...inv, pods: inv.pods.map((p, i) => ({ ...p, ips: [`${prefix}.${i + 2}`] })) });

/** The first pod /24 that holds no sampled outside address and under which the evaluator still gives every sampled verdict. */
function podPrefix(l: Loaded, sample: Probed[]): string | undefined {
  const outside = sample.flatMap((p) => [p.flow.src, p.flow.dst].filter(isAddress));
  return POD_PREFIXES.find((prefix) => {
    const net = parseCidr(`${prefix}.0/24`);
    if (
      !net ||
      outside.some((a) => {
        const ip = parseIp(a);
        return ip !== null && cidrContains(net, ip);
      })
    )
      return false;
    const inv = withIps(l.inventory, prefix);
    return sample.every((p) => evaluate(l.policies, inv, p.flow).allowed === p.allowed);
  });
}

/** Packets the pods and the outside host sent into the node namespace (its veths' receive counters). */
function packetsIn(topo: Topology): number {
  const links = JSON.parse(execFileSync('ip', ['-n', topo.node, '-s', '-j', 'link', 'show'], { encoding: 'utf8' })) as {
    ifname: string;
    stats64?: { rx: { packets: number } };
  }[];
  return links.filter((l) => l.ifname.startsWith('veth') || l.ifname === 'vext').reduce((n, l) => n + (l.stats64?.rx.packets ?? 0), 0);
}

interface Outcome {
  probes: Record<string, number>;
  packets: number;
  wrong: string[];
}

async function probeCase(c: CorpusCase): Promise<Outcome> {
  const l = load(c);
  const sample = sampleQueries(c, SAMPLE);
  const prefix = podPrefix(l, sample);
  if (!prefix) throw new Error(`${c.name}: every candidate pod /24 changes a sampled verdict (${POD_PREFIXES.join(', ')})`);
  const inventory = withIps(l.inventory, prefix);
  const podName = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
  const topo = Topology.create(inventory.pods.map(podName), 77, prefix);
  const { dp, cleanup } = await openTestDatapath({ netns: topo.nodeNetnsPath });
  try {
    const outside = [...new Set(sample.flatMap((p) => [p.flow.src, p.flow.dst].filter(isAddress)))];
    if (outside.length > 0) topo.addExternal(outside);
    await dp.apply(compile(l.policies, inventory), 1);
    for (const p of topo.pods) await dp.attach({ pod: p.name, ifindex: p.ifindex, ips: [p.ip] });

    const side = (e: string) => (isAddress(e) ? { ns: EXTERNAL, ip: e, host: e } : { ns: e, ip: topo.pod(e).ip, host: undefined });
    const listening = new Set<string>();
    for (const { flow } of sample) {
      const dst = side(flow.dst);
      const key = `${dst.ns} ${flow.protocol} ${dst.host} ${flow.port}`;
      if (listening.has(key) || flow.protocol === 'SCTP') continue;
      listening.add(key);
      const r = await topo.probe(dst.ns).listen(flow.protocol === 'TCP' ? 'tcp' : 'udp', flow.port, dst.host);
      if (!r.ok) throw new Error(`${c.name}: cannot listen on ${key}: ${r.error}`);
    }
    for (const { flow } of sample) if (flow.protocol === 'SCTP') await topo.sctp(side(flow.dst).ns);

    const before = packetsIn(topo);
    const delivered = await Promise.all(
      sample.map(async ({ flow }, i) => {
        const src = side(flow.src);
        const dst = side(flow.dst);
        if (flow.protocol === 'TCP') return (await topo.probe(src.ns).tcp(dst.ip, flow.port, TIMEOUT_MS, src.host)).ok;
        if (flow.protocol === 'UDP') return (await topo.probe(src.ns).udp(dst.ip, flow.port, TIMEOUT_MS, false, src.host)).ok;
        const sport = 20000 + i;
        const listener = await topo.sctp(dst.ns);
        await topo.sendSctp(src.ns, dst.ip, sport, flow.port, src.host);
        return listener.received({ src: src.ip, dst: dst.ip, sport, dport: flow.port }, TIMEOUT_MS);
      }),
    );
    const describeFlow = (f: Flow) => `${f.src} -> ${f.dst} ${f.protocol}/${f.port}`;
    const probes: Record<string, number> = {};
    for (const { flow } of sample) probes[flow.protocol] = (probes[flow.protocol] ?? 0) + 1;
    return {
      probes,
      packets: packetsIn(topo) - before,
      wrong: sample
        .map((p, i) => (delivered[i] === p.allowed ? '' : `${describeFlow(p.flow)}: expected ${p.allowed ? 'delivered' : 'dropped'}, was not`))
        .filter(Boolean),
    };
  } finally {
    await cleanup();
    topo.destroy();
  }
}

for (const corpus of CORPORA) {
  describe.skipIf(skip)(`the kernel agrees with the ${corpus} corpus`, () => {
    const cases = skip ? [] : corpusCases(corpus, RUNNER_QUERIES);
    const totals: Record<string, number> = { cases: 0, packets: 0 };

    it('has cases', () => {
      expect(cases.length).toBeGreaterThan(0);
    });

    it.concurrent.each(cases.map((c) => [c.name, c] as const))(
      '%s',
      async (_name, c) => {
        const o = await probeCase(c);
        totals.cases++;
        totals.packets += o.packets;
        for (const [proto, n] of Object.entries(o.probes)) totals[proto] = (totals[proto] ?? 0) + n;
        expect(o.wrong).toEqual([]);
        expect(Object.values(o.probes).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      },
      120_000,
    );

    afterAll(() => {
      console.log(`kernel vs ${corpus}: ${JSON.stringify(totals)} (probes by protocol; packets into the node namespace, ARP included)`);
    });
  });
}
