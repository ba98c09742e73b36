// kill -9 during apply, 100 rounds, real BPF. Each round starts the real agent (a child process) on the same
// store and bpffs pin root, lets it apply new generations back to back, and kills it with SIGKILL at a random
// moment, most often inside an apply. After every kill the live half of the pinned tables must be exactly the
// compiled tables of the generation the switch names (never a mix), and the next start must resume the
// last-known-good: adopt it when the kernel already holds it, else apply it.
import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeTables, layout as L } from '../datapath/index.ts';
import { kernelSkipReason, uniquePinRoot } from '../datapath/testing/index.ts';
import { openStore, type JsonValue } from '../offline-store/index.ts';
import { crashInventory, crashTables } from './testing/crash-fleet.ts';
import { bundleForTest, type TestBundle } from './testing/bundle.ts';
import { enrollStore, hubKey } from './testing/fixtures.ts';

const ROUNDS = Number(process.env.WAG_CRASH_ROUNDS ?? 100);
const pinRoot = uniquePinRoot().replace('weft-test-', 'wag-crash-');
const work = mkdtempSync(join(tmpdir(), 'weft-wag-crash-'));
let agentBin: TestBundle | undefined;

beforeAll(async () => {
  if (!kernelSkipReason) agentBin = await bundleForTest(join(import.meta.dirname, 'testing/crash-agent.ts'), 'crash-agent');
}, 60_000);

afterAll(() => {
  rmSync(pinRoot, { recursive: true, force: true });
  agentBin?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** The datapath pins its maps under <pinRoot>/layout-<fingerprint> (datapath/pin-layout.ts): one build, one dir. */
function mapsDir(): string {
  const dirs = readdirSync(pinRoot).filter((d) => d.startsWith('layout-'));
  if (dirs.length !== 1) throw new Error(`expected one layout-* dir under ${pinRoot}, found: ${dirs.join(', ') || 'none'}`);
  return join(pinRoot, dirs[0]);
}

function dump(map: string): { key: Buffer; value: Buffer }[] {
  const out = execFileSync('bpftool', ['-j', 'map', 'dump', 'pinned', join(mapsDir(), map)], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const hex = (a: string[]) => Buffer.from(a.map((b) => parseInt(b, 16)));
  return (JSON.parse(out) as { key: string[]; value: string[] }[]).map((e) => ({ key: hex(e.key), value: hex(e.value) }));
}

/** The live generation and the contents of its slot, as "key=value" hex strings per table. */
function kernelState(): { generation: number; slot: number; live: Record<string, string[]> } {
  const [st] = dump('weft_state');
  const { generation, slot } = st ? L.decState(st.value) : { generation: 0, slot: 0 };
  const live: Record<string, string[]> = {};
  for (const [map, struct] of TABLES) {
    live[map] = dump(map)
      .filter((e) => L.slotOf(struct, e.key) === slot)
      .map((e) => `${e.key.toString('hex')}=${e.value.toString('hex')}`)
      .sort();
  }
  return { generation, slot, live };
}

const inventory = crashInventory();
/** Every slotted map the datapath writes, and the struct of its key (which holds the slot). */
// Not weft_fqdn_names: the crash tables name no domain (and pattern keys hash with the node's random multiplier).
const TABLES = encodeTables(crashTables(1, inventory), 0)
  .filter((w) => w.map !== 'weft_fqdn_names')
  .map((w) => [w.map, w.keyStruct] as const);
const expectedCache = new Map<number, Record<string, string[]>>();
function expected(generation: number, slot: number): Record<string, string[]> {
  const k = generation * 2 + slot;
  if (!expectedCache.has(k)) {
    const writes = encodeTables(crashTables(generation, inventory), slot).filter((w) => w.map !== 'weft_fqdn_names');
    expectedCache.set(k, Object.fromEntries(writes.map((w) => [w.map, w.entries.map(([key, v]) => `${key.toString('hex')}=${v.toString('hex')}`).sort()])));
  }
  return expectedCache.get(k)!;
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** Runs the agent until `kill` says when; resolves with every line it printed. */
function round(dataDir: string, onLine: (line: string, c: Child) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [agentBin!.file, dataDir, pinRoot], { stdio: ['pipe', 'pipe', 'pipe'], env: agentBin!.env });
    const lines: string[] = [];
    let err = '';
    createInterface({ input: c.stdout }).on('line', (l) => {
      lines.push(l);
      try {
        onLine(l, c);
      } catch (e) {
        // A failing check must fail the test, not leave the child waiting for "go" forever.
        c.kill('SIGKILL');
        reject(e as Error);
      }
    });
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // 'close', not 'exit': every line printed before the kill has been read by then.
    c.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve(lines) : reject(new Error(`agent exited ${code} ${signal}: ${err.slice(-2000)}`))));
  });
}

it.skipIf(kernelSkipReason)(
  `kill -9 during apply, ${ROUNDS} rounds: never a mixed generation in the kernel, restart resumes the last-known-good`,
  async () => {
    const dataDir = join(work, 'data');
    const key = hubKey();
    const store = openStore(join(dataDir, 'agent.db'));
    enrollStore(store, key, 'mqtt://127.0.0.1:9'); // a hub that never answers: the agent runs offline
    store.config.set('inventory', inventory as unknown as JsonValue);
    store.close();
    writeFileSync(join(dataDir, 'hub-key.pem'), key.export({ format: 'pem', type: 'pkcs8' }));

    // The comparison means something: every generation fills every table.
    for (const [map] of TABLES) expect(expected(1, 0)[map].length).toBeGreaterThan(0);
    let midApply = 0;
    let lastLkg = 0;
    let kernelAfterKill = 0;
    const kinds = { adopted: 0, applied: 0, none: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const killAfter = 1 + Math.floor(Math.random() * 3);
      let applying = 0;
      let started: { restored: { kind: keyof typeof kinds; generation?: number }; kernel: number } | null = null;
      let atStart: ReturnType<typeof kernelState> | null = null;
      const lines = await round(dataDir, (line, c) => {
        if (line.startsWith('started ')) {
          started = JSON.parse(line.slice(8)) as typeof started;
          atStart = kernelState();
          if (atStart.generation !== lastLkg)
            c.kill('SIGKILL'); // checked below; no point going on
          else c.stdin.write('go\n');
        } else if (line.startsWith('applying ') && started && ++applying === killAfter) {
          setTimeout(() => c.kill('SIGKILL'), Math.random() * 20);
        }
      });
      expect(started).not.toBeNull();
      // The start sequence resumed the last-known-good: the kernel held exactly its tables before going on.
      const k0 = atStart!;
      expect(k0.generation, `round ${r}: generation at start`).toBe(lastLkg);
      if (lastLkg > 0) expect(k0.live).toEqual(expected(k0.generation, k0.slot));
      const s = started!;
      kinds[s.restored.kind]++;
      if (r > 0) {
        // adopted when the kill left the LKG live in the kernel, applied when it was killed before the switch
        expect(s.restored).toEqual(lastLkg === kernelAfterKill ? { kind: 'adopted', generation: lastLkg } : { kind: 'applied', generation: lastLkg });
      }
      if (lines.at(-1)?.startsWith('applying ')) midApply++;

      const k = kernelState();
      // Generation 0: killed before the first switch, nothing is live (the datapath allows all).
      if (k.generation > 0) expect(k.live, `round ${r}: generation ${k.generation} in slot ${k.slot}`).toEqual(expected(k.generation, k.slot));
      const ro = openStore(join(dataDir, 'agent.db'), { readonly: true });
      const lkg = ro.bundles.lastKnownGood()!.generation!;
      ro.close();
      // Committed before applying: the pointer is the live generation or the one being applied.
      expect(lkg - k.generation).toBeGreaterThanOrEqual(0);
      expect(lkg - k.generation).toBeLessThanOrEqual(1);
      lastLkg = lkg;
      kernelAfterKill = k.generation;
    }
    console.info(
      `crash-apply: ${ROUNDS} kills, ${midApply} inside an apply; restarts adopted ${kinds.adopted}, re-applied ${kinds.applied}; last generation ${lastLkg}`,
    );
    // The kills really landed inside applies (the child does nothing else after "go").
    expect(midApply).toBeGreaterThan(0);
  },
  900_000,
);
