// Tests that start the agent as a process many times bundle it once with esbuild: each start then costs a
// node start, not a TypeScript compile. The bundle lives under node_modules/.cache so its package imports
// resolve; the BPF objects and addon are copied beside it and found through WEFT_BPF_ARTIFACTS (the same
// mechanism the single binary uses), so a rebuild of the tree meanwhile cannot change them under the test.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { SOURCE_ARTIFACTS } from '../../datapath/index.ts';

const repo = join(import.meta.dirname, '..', '..');

export interface TestBundle {
  /** The bundled script: `node <file> args...` */
  file: string;
  /** Environment for the child: WEFT_BPF_ARTIFACTS pointing at the copied artifacts. */
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export async function bundleForTest(entry: string, name: string): Promise<TestBundle> {
  const dir = join(repo, 'node_modules', '.cache', `weft-wag-${name}-${process.pid}`);
  const file = join(dir, `${name}.mjs`);
  const artifacts = join(dir, 'artifacts');
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  mkdirSync(artifacts, { recursive: true });
  const copy = (from: string, to: string) => {
    try {
      copyFileSync(from, join(artifacts, to));
    } catch {
      // Not built: tests that need the kernel datapath skip by themselves.
    }
  };
  copy(SOURCE_ARTIFACTS.addon, 'weft_bpf.node');
  copy(SOURCE_ARTIFACTS.objects.podEgress, 'pod_egress.o');
  copy(SOURCE_ARTIFACTS.objects.podIngress, 'pod_ingress.o');
  return { file, env: { ...process.env, WEFT_BPF_ARTIFACTS: artifacts }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
