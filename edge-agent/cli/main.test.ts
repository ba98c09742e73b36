// The weft-agent CLI as a technician runs it: a real process against a running agent (status, flows) and
// against none (status offline, doctor), with exit codes 0 / 1 / 2 and --json output.
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDatapath } from '../../datapath/index.ts';
import { openStore } from '../../offline-store/index.ts';
import type { VerdictRecord } from '../../protocol/index.ts';
import type { CheckResult } from '../doctor.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { runAgent, type Agent } from '../run.ts';
import type { StatusReport } from '../status-cmd.ts';
import { bundleForTest, type TestBundle } from '../testing/bundle.ts';
import { bundle, enrollStore, fakeVeths, FakeKube, hubKey, shopSnapshot, SITE } from '../testing/fixtures.ts';
import { startBroker, type TestBroker } from '../testing/broker.ts';
import { waitFor } from '../../base/index.ts';
import mqtt from 'mqtt';
import { topics } from '../../protocol/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-wag-cli-'));
const idle = mkdtempSync(join(tmpdir(), 'weft-wag-cli-idle-'));
let cli: TestBundle;
let broker: TestBroker;
let agent: Agent;
const dp = new MemoryDatapath();

beforeAll(async () => {
  cli = await bundleForTest(join(import.meta.dirname, 'main.ts'), 'cli');
  broker = await startBroker();
  const key = hubKey();
  const s = openStore(join(dir, 'agent.db'));
  enrollStore(s, key, broker.url);
  s.close();
  const cfg = loadConfig({
    flags: { dataDir: dir, statusPort: 0, datapath: 'memory', tunnel: 'off', nodeName: 'node-1', provisionFile: join(dir, 'none.json') },
    env: {},
  });
  agent = await runAgent(cfg, {
    log: createLogger({ level: 'silent' }),
    datapath: { kind: 'memory', datapath: dp },
    resolveVeth: fakeVeths,
    kube: () => new FakeKube(shopSnapshot()),
  });
  const hub = await mqtt.connectAsync(broker.url);
  await hub.publishAsync(topics.bundle(SITE), bundle(key, 3), { qos: 1, retain: true });
  await hub.endAsync();
  await waitFor(() => agent.enforcer!.appliedGeneration === 3 && agent.enforcer!.attached.length === 3, { timeoutMs: 10_000, what: 'applied' });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await broker?.close();
  cli?.cleanup();
  rmSync(dir, { recursive: true, force: true });
  rmSync(idle, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli.file, ...args], { env: { ...cli.env, WEFT_CONFIG: '' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('weft-agent CLI', () => {
  it('status --json: enrolled, site, link, generation, enforcing, outbox, pods; exit 0 while enforcing', async () => {
    const r = await run(['status', '--json', '--data-dir', dir]);
    expect(r.code).toBe(0);
    const s = (JSON.parse(r.stdout) as StatusReport).status!;
    expect(s).toMatchObject({
      enrolled: true,
      siteId: SITE,
      enforcing: true,
      datapath: { appliedGeneration: 3 },
      hub: { link: { state: 'connected' } },
      outbox: { lostRecords: 0 },
      pods: { attached: 3 },
      lastRejection: null,
    });
    const human = await run(['status', '--data-dir', dir]);
    expect(human.stdout).toMatch(/^state:\s+enforcing generation 3/m);
    expect(human.stdout).toMatch(/^pods:\s+3 attached/m);
  });

  it('status with no agent running: says so from the store, exit 1', async () => {
    const r = await run(['status', '--data-dir', idle, '--status-port', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^agent:\s+not running/m);
  });

  it('flows --json --verdict deny --pod: the deny with the policy that decided; human lines too', async () => {
    dp.judge('shop/db', 'ingress', { proto: 6, src: '10.42.1.1', dst: '10.42.0.2', sport: 40001, dport: 5432 });
    const judged = async () => (await agent.metrics.verdicts.get()).values.reduce((n, v) => n + v.value, 0);
    for (let i = 0; i < 500 && (await judged()) < 1; i++) await new Promise((r) => setTimeout(r, 20));
    const r = await run(['flows', '--json', '--verdict', 'deny', '--pod', 'shop/db', '--data-dir', dir]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as VerdictRecord);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      verdict: 'deny',
      endpoint: 'shop/db',
      src: '10.42.1.1',
      policy: { kind: 'NetworkPolicy', namespace: 'shop', name: 'db-from-web' },
    });
    // The filters filter: no allow verdicts were reported, and nothing concerned shop/web.
    expect((await run(['flows', '--json', '--verdict', 'allow', '--data-dir', dir])).stdout).toBe('');
    expect((await run(['flows', '--json', '--pod', 'shop/web', '--data-dir', dir])).stdout).toBe('');
    const human = await run(['flows', '--verdict', 'deny', '--data-dir', dir]);
    expect(human.stdout).toMatch(/DENY\s+TCP\s+10\.42\.1\.1:40001 -> shop\/db:5432\s+\(ingress, by NetworkPolicy:shop\/db-from-web isolation, gen 3\)/);
    expect((await run(['flows', '--verdict', 'maybe', '--data-dir', dir])).code).toBe(2);
  });

  it('flows --follow --json streams new verdicts as they happen, until interrupted', async () => {
    const c = spawn(process.execPath, [cli.file, 'flows', '--follow', '--json', '--verdict', 'deny', '--data-dir', dir], {
      env: { ...cli.env, WEFT_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const got: VerdictRecord[] = [];
    createInterface({ input: c.stdout }).on('line', (l) => got.push(JSON.parse(l) as VerdictRecord));
    try {
      await waitFor(() => got.length === 1, { timeoutMs: 20_000, what: 'the earlier deny' }); // recent flows come first
      // Each new deny is streamed; keep judging until the follower has shown one (it may still be connecting).
      for (let i = 0; i < 200 && got.length < 2; i++) {
        dp.judge('shop/db', 'ingress', { proto: 6, src: '10.42.1.1', dst: '10.42.0.2', sport: 41000 + i, dport: 22 });
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(got[1]).toMatchObject({ verdict: 'deny', endpoint: 'shop/db', dport: 22 });
      c.kill('SIGINT');
      const code = await new Promise<number | null>((r) => c.once('close', r));
      expect(code).toBe(0);
    } finally {
      c.kill('SIGKILL');
    }
  });

  it('doctor --json: every check reported, each failure names its fix, exit 1 when one fails', async () => {
    const r = await run(['doctor', '--json', '--data-dir', dir, '--datapath', 'memory']);
    const checks = JSON.parse(r.stdout) as CheckResult[];
    const names = checks.map((c) => c.name);
    for (const n of ['kernel', 'btf', 'bpffs', 'disk space', 'database', 'enrollment', 'hub', 'clock', 'k3s', 'agent', 'datapath', 'tunnel'])
      expect(names).toContain(n);
    expect(checks.find((c) => c.name === 'database')).toMatchObject({ status: 'ok' });
    expect(checks.find((c) => c.name === 'agent')).toMatchObject({ status: 'ok', detail: 'enforcing generation 3' });
    // The in-memory datapath filters nothing: a failure with a fix, so the exit code says "no".
    expect(checks.find((c) => c.name === 'datapath')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/\S/) });
    for (const c of checks.filter((x) => x.status === 'fail')) expect(c.fix, c.name).toMatch(/\S/);
    expect(r.code).toBe(1);
    const human = await run(['doctor', '--data-dir', idle, '--status-port', '1']);
    expect(human.stdout).toMatch(/^FAIL\s+database\s+no store at .*\n\s+fix: /m);
    expect(human.stdout).toMatch(/^FAIL\s+agent\s+.*not running.*\n\s+fix: systemctl restart weft-agent/m);
  });

  it.each([
    ['help', ['help']],
    ['version', ['--version']],
    ['status', ['status', '--data-dir', dir]],
    ['status --json', ['status', '--json', '--data-dir', dir]],
    ['doctor', ['doctor', '--data-dir', dir, '--datapath', 'memory']],
    ['flows --json', ['flows', '--json', '--data-dir', dir]],
    ['flows --follow', ['flows', '--follow', '--data-dir', dir]],
  ])('%s into a pipe whose reader has gone (| head): exits 0 without a stack trace', async (_name, args) => {
    const c = spawn(process.execPath, [cli.file, ...args], { env: { ...cli.env, WEFT_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    // Closing our end before the child writes: its first write to stdout meets EPIPE.
    c.stdout.destroy();
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((r) => c.once('close', r));
    clearTimeout(timer);
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  });

  it('bad usage exits 2 with the problem named; --version prints the version', async () => {
    const r = await run(['status', '--nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option --nope/);
    expect((await run(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
