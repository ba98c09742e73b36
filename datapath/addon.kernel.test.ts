// The libbpf addon's own promises, on the real kernel: the verifier log in a load error, map sizes
// set before load, maps pinned under the pin root and shared by the next opener, batch map
// operations, and ring buffers that add no thread. (Mounting bpffs is bpffs.kernel.test.ts's.)
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPaths } from './artifacts.ts';
import { DatapathError } from './errors.ts';
import { explainNativeError } from './kernel-features.ts';
import * as L from './layout.ts';
import type { LibbpfDatapath } from './libbpf-datapath.ts';
import { BPF_ANY, native, type NativeError } from './native.ts';
import { fixtureTables } from './testing/tables.ts';
import { kernelSkipReason, openTestDatapath } from './testing/kernel.ts';

const here = dirname(fileURLToPath(import.meta.url));
const A = { web: '10.9.0.2', db: '10.9.0.3', api: '10.9.0.4' };
/** max_entries of the test datapath's maps: another object must ask for the same to reuse them. */
const SIZES = {
  weft_endpoints: 14,
  weft_ipcache: 18,
  weft_ipcache_hosts: 18,
  weft_sets: 10,
  weft_rules: 22,
  weft_rules_exact: 22,
  weft_ct: 1234,
  weft_fqdn_names: 2 * 32,
  weft_fqdn_learned: 512,
};
const LIMITS = { endpoints: 7, ipcache: 9, sets: 5, rules: 11 };
const hasClang = spawnSync('clang', ['--version']).status === 0;
if (!kernelSkipReason && !hasClang) console.warn('skipping the verifier-log test: clang is missing (scripts/setup.mjs installs it)');

describe.skipIf(kernelSkipReason)('libbpf addon', () => {
  let dp: LibbpfDatapath;
  let cleanup: () => Promise<void>;
  const tmp = mkdtempSync(join(tmpdir(), 'wdp-addon-'));
  beforeAll(async () => {
    ({ dp, cleanup } = await openTestDatapath({ limits: LIMITS, conntrackSize: SIZES.weft_ct, fqdnPatterns: 32, fqdnLearnedSize: SIZES.weft_fqdn_learned }));
  });
  afterAll(async () => {
    await cleanup?.();
    rmSync(tmp, { recursive: true, force: true });
  });

  it.skipIf(!hasClang)('puts the verifier log into the load error', () => {
    const obj = join(tmp, 'rejected.o');
    execFileSync('clang', [
      '-target',
      'bpf',
      '-O2',
      '-g',
      '-D__TARGET_ARCH_x86',
      `-I${artifactPaths().objectDir}`,
      '-c',
      join(here, '..', 'bpf', 'testdata', 'rejected.bpf.c'),
      '-o',
      obj,
    ]);
    let err: NativeError | undefined;
    try {
      const bpf = native();
      new bpf.BpfObject(obj, dp.layoutRoot, {});
    } catch (e) {
      err = e as NativeError;
    }
    expect(err?.errno).toBeGreaterThan(0);
    const explained = explainNativeError(`loading ${obj}`, err!, dp.layoutRoot);
    expect(explained).toBeInstanceOf(DatapathError);
    expect(explained.code).toBe('DATAPATH_LOAD');
    // The verifier's own words, with the instruction it refused.
    expect(explained.message).toMatch(/invalid access to packet/);
    expect(explained.message).toMatch(/weft_rejected/);
  });

  it('sizes the maps from the limits before load (two halves per table)', () => {
    const maxEntries = (map: string) =>
      (JSON.parse(execFileSync('bpftool', ['-j', 'map', 'show', 'pinned', join(dp.layoutRoot, map)], { encoding: 'utf8' })) as { max_entries: number })
        .max_entries;
    expect({
      endpoints: maxEntries('weft_endpoints'),
      ipcache: maxEntries('weft_ipcache'),
      hosts: maxEntries('weft_ipcache_hosts'),
      sets: maxEntries('weft_sets'),
      rules: maxEntries('weft_rules'),
      exact: maxEntries('weft_rules_exact'),
      ct: maxEntries('weft_ct'),
      fqdnNames: maxEntries('weft_fqdn_names'),
      fqdnLearned: maxEntries('weft_fqdn_learned'),
    }).toEqual({ endpoints: 14, ipcache: 18, hosts: 18, sets: 10, rules: 22, exact: 22, ct: 1234, fqdnNames: 64, fqdnLearned: 512 });
  });

  it('pins every map under the layout directory of the pin root, and the next opener shares them', async () => {
    expect(readdirSync(dp.pinRoot)).toEqual([basename(dp.layoutRoot)]);
    expect(basename(dp.layoutRoot)).toMatch(/^layout-[0-9a-f]{16}$/);
    expect(readdirSync(dp.layoutRoot).sort()).toEqual(Object.keys(L.MAP_LAYOUTS).sort());
    const second = await openTestDatapath({
      pinRoot: dp.pinRoot,
      limits: { endpoints: 7, ipcache: 9, sets: 5, rules: 11 },
      conntrackSize: 1234,
      fqdnPatterns: 32,
      fqdnLearnedSize: SIZES.weft_fqdn_learned,
    });
    try {
      await dp.apply(fixtureTables(A), 17);
      expect(await second.dp.appliedGeneration()).toBe(17);
    } finally {
      await second.dp.close(); // not second.cleanup(): that would unpin the maps of `dp` too
    }
  });

  it('updates and deletes in batches', () => {
    const bpf = native();
    const fd = new bpf.BpfObject(artifactPaths().objects.podEgress, dp.layoutRoot, SIZES);
    try {
      const ct = fd.mapFd('weft_ct');
      const ks = L.LAYOUTS.weft_ct_key.size;
      const keys = Buffer.alloc(ks * 100);
      for (let i = 0; i < 100; i++) keys.writeUInt32LE(1000 + i, i * ks);
      const values = Buffer.alloc(L.LAYOUTS.weft_ct_value.size * 100);
      expect(bpf.mapUpdateBatch(ct, keys, values, 100, BPF_ANY)).toBe(100);
      const count = () => bpf.mapKeys(ct, ks).length / ks;
      expect(count()).toBe(100);
      expect(bpf.mapDeleteBatch(ct, keys, 100)).toBe(100);
      expect(count()).toBe(0);
    } finally {
      fd.close();
    }
  });

  it('consumes ring buffers from the event loop, without a thread per buffer', () => {
    const threads = () => readdirSync('/proc/self/task').length;
    const before = threads();
    const bpf = native();
    const fd = new bpf.BpfObject(artifactPaths().objects.podEgress, dp.layoutRoot, SIZES);
    const rings = Array.from({ length: 4 }, () => new bpf.RingBuffer(fd.mapFd('weft_events'), () => undefined));
    try {
      expect(threads()).toBe(before);
    } finally {
      for (const r of rings) r.close();
      fd.close();
    }
  });

  it('loads by path from any directory (no `bindings` package), as the single binary ships it', () => {
    const dir = mkdtempSync(join(tmp, 'shipped-'));
    copyFileSync(artifactPaths().addon, join(dir, 'weft_bpf.node'));
    const code = `console.log(require(${JSON.stringify(join(dir, 'weft_bpf.node'))}).libbpfVersion())`;
    expect(execFileSync(process.execPath, ['-e', code], { cwd: dir, encoding: 'utf8' })).toMatch(/^v\d+\.\d+/);
  });
});
