// Enforcement outlives the agent: a child process applies and attaches, is killed with SIGKILL,
// the programs keep judging from the pinned maps, and a new process adopts them.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import type { VerdictEvent } from './datapath.ts';
import { LibbpfDatapath } from './libbpf-datapath.ts';
import { fixtureTables, RULE } from './testing/tables.ts';
import { kernelSkipReason, uniquePinRoot } from './testing/kernel.ts';
import { Topology } from './testing/netns.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinRoot = uniquePinRoot();
const tmp = mkdtempSync(join(tmpdir(), 'weft-restart-'));
let topo: Topology | undefined;
let adopted: LibbpfDatapath | undefined;

afterAll(async () => {
  if (adopted && topo) for (const p of topo.pods) await adopted.detach({ pod: p.name, ifindex: p.ifindex, ips: [] });
  await adopted?.close();
  LibbpfDatapath.unpin(pinRoot);
  topo?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

it.skipIf(kernelSkipReason)(
  'keeps enforcing across kill -9 and is adopted by the next process',
  async () => {
    topo = Topology.create(['web', 'db', 'api'], 82);
    const [web, db, api] = topo.pods;
    const addrs = { web: web.ip, db: db.ip, api: api.ip };
    const server = topo.probe('db');
    expect((await server.listen('tcp', 5432)).ok).toBe(true);
    const tablesFile = join(tmp, 'tables.json');
    writeFileSync(tablesFile, JSON.stringify(fixtureTables(addrs)));

    const child = spawn(
      process.execPath,
      [
        join(repo, 'bin', 'run.mjs'),
        join(repo, 'datapath', 'testing', 'enforcer-child.ts'),
        pinRoot,
        topo.nodeNetnsPath,
        tablesFile,
        '5',
        ...topo.pods.map((p) => String(p.ifindex)),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`enforcer child exited with ${code}`)));
    });
    const allowed = () => topo!.probe('web').tcp(addrs.db, 5432);
    const denied = () => topo!.probe('api').tcp(addrs.db, 5432, 700);
    expect([(await allowed()).ok, (await denied()).ok]).toEqual([true, false]);

    // Kill -9 while a connection attempt is in flight: enforcement must not blink.
    const during = denied();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await during).ok).toBe(false);
    expect([(await allowed()).ok, (await denied()).ok]).toEqual([true, false]);

    // A new process adopts the pinned state: same generation, and its applies reach the running programs.
    adopted = await LibbpfDatapath.open({ pinRoot, netns: topo.nodeNetnsPath });
    expect(await adopted.appliedGeneration()).toBe(5);
    // Same build, same layout fingerprint: one directory, adopted rather than replaced.
    expect(readdirSync(pinRoot)).toEqual([basename(adopted.layoutRoot)]);
    expect(adopted.pendingPredecessors).toEqual([]);
    await adopted.apply(fixtureTables(addrs, 'allow'), 6);
    expect((await denied()).ok).toBe(true);
    // Re-attaching replaces the dead process's programs in place; events now come to us.
    const events: VerdictEvent[] = [];
    void (async () => {
      for await (const e of adopted!.events()) events.push(e);
    })();
    for (const p of topo.pods) await adopted.attach({ pod: p.name, ifindex: p.ifindex, ips: [] });
    await adopted.apply(fixtureTables(addrs), 7);
    expect((await topo.probe('api').tcp(addrs.db, 5432, 700)).ok).toBe(false);
    for (let i = 0; i < 250 && !events.some((e) => e.generation === 7); i++) await new Promise((r) => setTimeout(r, 20));
    expect(events.find((e) => e.generation === 7)).toMatchObject({ verdict: 'deny', ruleId: RULE.isolation, endpointId: 2 });
  },
  90_000,
);
