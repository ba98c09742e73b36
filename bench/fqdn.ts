// npm run bench:fqdn (root; run it under flock /tmp/weft-heavy.lock): FQDN egress.
//   1. The field scenario (field-tests/lib/fqdn-scenario.ts): pod web resolves (knotd) and connects
//      every 100 ms to an allowed name while the agent is kill -9'd N times with the hub cut off:
//      restarts, attempts, failures, and DNS answer -> connection established (answerToAllowMs).
//   2. The kernel under BPF_PROG_TEST_RUN: ns to learn one answer (the address is allowed when the
//      program returns), CPU per 1000 answers/s, and the per-packet cost with 10 000 learned
//      addresses against none.
//   3. The agent's copy of the learned map into its store (every fqdnSyncS): ms for 10 000 addresses.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { openStore } from '../offline-store/index.ts';
import { openTestDatapath } from '../datapath/testing/index.ts';
import { createLogger, FqdnKeeper } from '../edge-agent/index.ts';
import { Harness } from '../field-tests/lib/harness.ts';
import { runFqdnScenario } from '../field-tests/lib/fqdn-scenario.ts';
import { measureKernel } from './fqdn/kernel.ts';
import { median, table, writeReport } from './lib/report.ts';

const RESTARTS = Number(process.env.BENCH_FQDN_RESTARTS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 20_000);
const log = (m: string) => process.stderr.write(`bench:fqdn: ${m}\n`);

async function keeperSync(): Promise<{ addresses: number; syncMs: number; restoreMs: number }> {
  const { dp, cleanup } = await openTestDatapath();
  const dir = mkdtempSync(join(tmpdir(), 'wfq-bench-'));
  try {
    const store = openStore(join(dir, 'agent.db'));
    const keeper = new FqdnKeeper({ map: dp, store, log: createLogger({ level: 'silent' }), syncMs: 5000 });
    keeper.know(['*.cdn.test']);
    const now = process.hrtime.bigint();
    dp.restoreLearned(
      Array.from({ length: 10_000 }, (_, i) => ({
        addr: `100.64.${i >> 8}.${i & 0xff}`,
        pattern: dp.patternKey('*.cdn.test'),
        expiresNs: now + 3600n * 10n ** 9n,
      })),
    );
    const syncs: number[] = [];
    const addresses = 10_000;
    // The first copy writes every row; the later ones find nothing changed (the steady state).
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      keeper.sync();
      syncs.push(performance.now() - t);
    }
    const t = performance.now();
    keeper.restore();
    const restoreMs = performance.now() - t;
    store.close();
    return { addresses, syncMs: Math.round(median(syncs)), restoreMs: Math.round(restoreMs) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cleanup();
  }
}

const loadStart = loadavg()[0];
log(`kernel: ${ROUNDS} rounds of ${RUNS} runs`);
const kernel = await measureKernel(ROUNDS, RUNS);
log(JSON.stringify(kernel));
const sync = await keeperSync();
log(JSON.stringify(sync));
log(`field: ${RESTARTS} agent restarts`);
const h = await Harness.create({ kind: 'wfq' });
let field: Awaited<ReturnType<typeof runFqdnScenario>>;
try {
  field = await runFqdnScenario(h, { restarts: RESTARTS, log });
} finally {
  await h.cleanup();
}
const loadEnd = loadavg()[0];

const cpuPer1000 = (kernel.answerNs.oneA * 1000) / 1e9; // CPU seconds per second at 1000 answers/s
const results = {
  restarts: field.restarts,
  allowedAttempts: field.allowedAttempts,
  failedAllowed: field.failedAllowed,
  deniedAttempts: field.deniedAttempts,
  passedDenied: field.passedDenied,
  answerToAllowMs: field.answerToAllowMs,
  dnsRetried: field.dnsRetried,
  kernelAnswerToAllowNs: kernel.answerNs,
  cpuPer1000AnswersPerS: { kernelPercentOfOneCpu: Math.round(cpuPer1000 * 100 * 1000) / 1000, agentSyncMsPer10kAddresses: sync.syncMs },
  perPacketNs: kernel.packetNs,
  restartToEnforcingMs: field.restartToEnforcingMs,
  addressChange: field.addressChange,
  keeper: sync,
  loadAverage: { start: loadStart, end: loadEnd },
  rounds: kernel.rounds,
  runs: kernel.runs,
};

writeReport({
  name: 'fqdn',
  title: 'FQDN egress (bench:fqdn)',
  method: `\`flock /tmp/weft-heavy.lock npm run bench:fqdn\` (root). Field: one site on network namespaces with its agent as shipped (the esbuild bundle), Debian's knotd in the site as the pods' resolver (1 s TTLs), three WAN clients as servers; a ClusterNetworkPolicy lets pod web reach allowed.weft.test and *.api.weft.test on TCP 7000 by name and denies the rest; the hub's link is cut; the pod resolves and connects every 100 ms to the allowed name (every 500 ms to a wildcard name) and to a name not allowed while the agent is kill -9'd ${RESTARTS} times (each restart waits for "enforcing"); agent fqdnMinTtlS 1, fqdnGraceS 1. answerToAllowMs: the pod's DNS answer received -> its TCP connection to the answer's address established and echoed (so it includes a round trip). Kernel: BPF_PROG_TEST_RUN of the real programs on real maps, ${ROUNDS} rounds of ${RUNS} runs, medians; "10k learned": 10 000 addresses put into the learned map. The alternative, Cilium's DNS proxy, answers in its agent: FQDN traffic fails while that agent restarts (cilium#30984), which is what the field part measures for Weft. 1-minute load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end (shared machine).`,
  markdown: [
    table(
      ['field (hub cut off)', 'value'],
      [
        ['agent kill -9 restarts', results.restarts],
        ['allowed attempts / failed', `${results.allowedAttempts} / **${results.failedAllowed}**`],
        ['allowed attempts whose DNS query was retried (1 s without answer)', results.dnsRetried],
        ['denied-name attempts / passed', `${results.deniedAttempts} / **${results.passedDenied}**`],
        ['DNS answer -> connection established, p50 / p99 (ms)', `${results.answerToAllowMs.p50} / ${results.answerToAllowMs.p99}`],
        ['agent kill -9 -> enforcing, p50 / p99 (ms)', `${results.restartToEnforcingMs.p50} / ${results.restartToEnforcingMs.p99}`],
        [
          'address change: new address connected / attempts; old address after its TTL',
          `${results.addressChange.newAddressConnected} / ${results.addressChange.newAddressAttempts}; ${results.addressChange.oldAddressAfterExpiry}`,
        ],
      ],
    ),
    '',
    table(
      ['kernel (BPF_PROG_TEST_RUN)', 'ns per packet'],
      [
        ['DNS answer, 1 A record, learned (answer -> allowed in the kernel)', kernel.answerNs.oneA],
        ['DNS answer, CNAME + 8 A records, learned', kernel.answerNs.cnameAndEightA],
        ['DNS answer whose question matches no pattern', kernel.answerNs.notMatched],
        ['UDP reply that is not DNS (same path, no parsing)', kernel.answerNs.notDns],
        [
          'new flow to an unlearned address, denied: none learned / 10k learned',
          `${kernel.packetNs.deniedUnlearned.none} / ${kernel.packetNs.deniedUnlearned.learned10k}`,
        ],
        ['new flow to a learned address on a port not allowed (the whole FQDN lookup)', kernel.packetNs.learnedWrongPort],
        ['established packet: none learned / 10k learned', `${kernel.packetNs.established.none} / ${kernel.packetNs.established.learned10k}`],
      ],
    ),
    '',
    `CPU per 1000 DNS answers/s in the kernel: ${results.cpuPer1000AnswersPerS.kernelPercentOfOneCpu}% of one CPU (1000 × the 1-record answer's ns). The agent copies the learned map into its store every 5 s: ${sync.syncMs} ms for ${sync.addresses} addresses (restore at boot: ${sync.restoreMs} ms).`,
  ].join('\n'),
  results,
});
log('written bench/results/fqdn.json and docs/benchmarks.md');
