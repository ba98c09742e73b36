// In the single binary, the native addons (better-sqlite3, the bpf addon) and the BPF objects travel
// as SEA assets. At start they are written once to content-hashed files under a root-owned 0700
// directory and loaded by path: WEFT_BPF_ARTIFACTS for bpf/, WEFT_SQLITE_ADDON for better-sqlite3.
// From a checkout (not a SEA) this does nothing: the files are where the build left them.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { AgentError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** Asset keys in the SEA blob, and the file name each is loaded under. */
export const ASSETS = {
  'weft_bpf.node': 'weft_bpf.node',
  'pod_egress.o': 'pod_egress.o',
  'pod_ingress.o': 'pod_ingress.o',
  'better_sqlite3.node': 'better_sqlite3.node',
} as const;

/**
 * A small asset holding assetsHash() of the others, computed by build-sea.ts: a start whose assets
 * are already extracted then reads only these 64 bytes, not ~4 MB of the binary (pages that would
 * stay resident for the agent's whole life).
 */
export const ASSETS_HASH_KEY = 'assets.sha256';

/** sha256 over each asset's key and bytes, in ASSETS order: names the extraction directory. */
export function assetsHash(bytesOf: (key: keyof typeof ASSETS) => Uint8Array): string {
  const hash = createHash('sha256');
  for (const k of Object.keys(ASSETS) as (keyof typeof ASSETS)[]) hash.update(k).update(bytesOf(k));
  return hash.digest('hex');
}

export interface SeaApi {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

function sea(): SeaApi | null {
  try {
    // node:sea exists from Node 20.12; older runtimes and checkouts are not a SEA.
    const api = createRequire(__filenameOrUrl())('node:sea') as SeaApi;
    return api.isSea() ? api : null;
  } catch {
    return null;
  }
}

function __filenameOrUrl(): string {
  return typeof __filename === 'string' ? __filename : process.execPath;
}

/** The mount options of the filesystem holding `dir` (from /proc/self/mountinfo), or null when unknown. */
export function mountOptionsOf(dir: string, mountinfo = '/proc/self/mountinfo'): string[] | null {
  let text: string;
  try {
    text = readFileSync(mountinfo, 'utf8');
  } catch {
    return null;
  }
  let best: { point: string; opts: string[] } | null = null;
  for (const line of text.split('\n')) {
    // id parent major:minor root mount-point options ...: the mount point is field 5 (octal escapes for spaces).
    const f = line.split(' ');
    if (f.length < 6) continue;
    const point = f[4].replace(/\\040/g, ' ');
    const inside = point === '/' || dir === point || dir.startsWith(`${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, opts: f[5].split(',') };
  }
  return best?.opts ?? null;
}

/** The hash build-sea.ts embedded; a binary built without it pays for hashing the assets at start. */
function embeddedHash(api: SeaApi): string | null {
  try {
    const h = Buffer.from(api.getAsset(ASSETS_HASH_KEY)).toString('utf8').trim();
    return /^[0-9a-f]{64}$/.test(h) ? h : null;
  } catch {
    return null;
  }
}

/** Writes the SEA's assets into `<dir>/<sha256-prefix>/` (0700, owned by us) and points the loaders at them. */
export function prepareAssets(dir: string, log: Logger, api: SeaApi | null = sea()): string | null {
  if (!api) return null;
  const bytesOf = (k: keyof typeof ASSETS) => Buffer.from(api.getAsset(k));
  const target = join(dir, (embeddedHash(api) ?? assetsHash(bytesOf)).slice(0, 16));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const st = statSync(dir);
  if (process.getuid && st.uid !== process.getuid()) {
    throw new AgentError(
      'ASSETS_UNSAFE_DIR',
      `${dir} is owned by uid ${st.uid}, not by the agent`,
      `remove ${dir}; the agent recreates it owned by itself with mode 0700`,
    );
  }
  if (!existsSync(target)) {
    const tmp = `${target}.${process.pid}.tmp`;
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    for (const [k, name] of Object.entries(ASSETS)) writeFileSync(join(tmp, name), bytesOf(k as keyof typeof ASSETS), { mode: 0o500 });
    renameSync(tmp, target);
    log.info({ dir: target }, 'extracted native addons and BPF objects');
  }
  // A shared object on a noexec mount (systemd mounts /run and /tmp so) fails later as a vague
  // "failed to map segment": say it here, with the fix.
  if (mountOptionsOf(target)?.includes('noexec')) {
    throw new AgentError(
      'ASSETS_NOEXEC',
      `${dir} is on a filesystem mounted noexec: the native addons cannot be loaded from it`,
      'set assetDir in /etc/weft/agent.yaml to a directory on a filesystem without noexec (the default is <dataDir>/assets)',
    );
  }
  process.env.WEFT_BPF_ARTIFACTS = target;
  process.env.WEFT_SQLITE_ADDON = join(target, 'better_sqlite3.node');
  return target;
}
