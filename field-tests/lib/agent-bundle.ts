// The agent as it ships: one esbuild bundle of edge-agent/cli/main.ts (what the single binary
// wraps), with the BPF objects and the libbpf addon found through WEFT_BPF_ARTIFACTS as the
// packaged agent finds them. Starting it skips the TypeScript loader, so "enforcing after a
// restart" measures the agent, not tsx compiling it.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BPF_PROGRAMS, SOURCE_ARTIFACTS } from '../../datapath/index.ts';
import type { Harness } from './harness.ts';
import { FIELD_CACHE, REPO_ROOT } from './repo.ts';

export interface AgentEntry {
  /** The script node runs: bin/weft-agent.mjs (checkout) or the bundle. */
  script: string;
  env: NodeJS.ProcessEnv;
}

/** The checkout's agent (bin/weft-agent.mjs with the tsx loader). */
export function checkoutAgent(): AgentEntry {
  return { script: `${REPO_ROOT}bin/weft-agent.mjs`, env: process.env };
}

/**
 * Bundles the agent for this run. The bundle lives under the repo's node_modules/.cache (so its
 * native dependency, better-sqlite3, resolves) and is removed at cleanup.
 */
export async function bundledAgent(h: Harness): Promise<AgentEntry> {
  const dir = join(FIELD_CACHE, h.names.prefix.slice(0, -1));
  const artifacts = join(h.dir, 'bpf-artifacts');
  mkdirSync(dir, { recursive: true });
  h.onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(artifacts, { recursive: true });
  symlinkSync(SOURCE_ARTIFACTS.addon, join(artifacts, 'weft_bpf.node'));
  symlinkSync(SOURCE_ARTIFACTS.objects.podEgress, join(artifacts, BPF_PROGRAMS.podEgress.object));
  symlinkSync(SOURCE_ARTIFACTS.objects.podIngress, join(artifacts, BPF_PROGRAMS.podIngress.object));
  const script = join(dir, 'weft-agent.mjs');
  await build({
    entryPoints: [join(REPO_ROOT, 'edge-agent', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: script,
    logLevel: 'error',
    external: ['better-sqlite3'],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: { js: "import { createRequire as __weftRequire } from 'node:module'; const require = __weftRequire(import.meta.url);" },
  });
  return { script, env: { ...process.env, WEFT_BPF_ARTIFACTS: artifacts } };
}
