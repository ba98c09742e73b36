// Pinned maps are adopted across restarts only by programs built for them. The maps of one build
// live in `<pinRoot>/layout-<fingerprint>`, the fingerprint hashing every map's name, type, key and
// value size, flags and capacity (libbpf cannot reuse a pinned map of another capacity), the
// programs' names and sections, and the TypeScript struct layouts. An agent whose fingerprint
// differs (an upgrade) loads into a fresh directory; the directories it found beside it, and maps
// pinned directly in the pin root by agents from before layout directories, are its predecessors,
// retired once its own programs have replaced theirs.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ArtifactPaths } from './artifacts.ts';
import { LAYOUTS } from './layout.ts';
import { BPF_NOEXIST, type NativeBpf } from './native.ts';

const PREFIX = 'layout-';

/** 16 hex digits over the objects' maps and programs and the TypeScript struct layouts; deterministic. */
export function layoutFingerprint(bpf: NativeBpf, paths: ArtifactPaths, capacities: Record<string, number>): string {
  const lines = new Set([...bpf.objectLayout(paths.objects.podEgress), ...bpf.objectLayout(paths.objects.podIngress)]);
  const h = createHash('sha256');
  for (const l of [...lines].sort()) h.update(l + '\n');
  h.update(JSON.stringify(LAYOUTS));
  h.update(JSON.stringify(Object.entries(capacities).sort())); // by name: no two names share one
  return h.digest('hex').slice(0, 16);
}

export function layoutDir(pinRoot: string, fingerprint: string): string {
  return join(pinRoot, PREFIX + fingerprint);
}

/** Pinned state of another build under pinRoot: a whole layout directory, or loose pins in the root itself. */
export interface Predecessor {
  /** The layout directory, or pinRoot for loose pins. */
  dir: string;
  /** The pin files (full paths). */
  pins: string[];
}

export function findPredecessors(pinRoot: string, own: string): Predecessor[] {
  if (!existsSync(pinRoot)) return [];
  const out: Predecessor[] = [];
  const loose: string[] = [];
  for (const name of readdirSync(pinRoot)) {
    const path = join(pinRoot, name);
    if (statSync(path).isDirectory()) {
      if (name.startsWith(PREFIX) && path !== own) out.push({ dir: path, pins: readdirSync(path).map((f) => join(path, f)) });
    } else if (name.startsWith('weft_')) loose.push(path); // our map names: never anything else pinned there
  }
  if (loose.length) out.push({ dir: pinRoot, pins: loose });
  return out;
}

export interface PinnedMap {
  path: string;
  name: string;
  id: number;
  type: number;
  keySize: number;
  valueSize: number;
}

/** The predecessors' maps: their kernel ids tell their programs apart, their shapes say what can be carried over. */
export function pinnedMaps(bpf: NativeBpf, preds: Predecessor[]): PinnedMap[] {
  const out: PinnedMap[] = [];
  for (const path of preds.flatMap((p) => p.pins)) {
    let fd: number;
    try {
      fd = bpf.objGet(path);
    } catch {
      continue; // vanished meanwhile
    }
    try {
      out.push({ path, name: basename(path), ...bpf.mapInfo(fd) });
    } catch {
      // not a map (a program or link pinned by hand): nothing of ours
    } finally {
      bpf.closeFd(fd);
    }
  }
  return out;
}

/**
 * Copies the entries of a predecessor's map into ours (same name, type, key and value size: a
 * release that changes what such a map means renames it). Entries already in ours win. Returns how
 * many were copied.
 */
export function carryEntries(bpf: NativeBpf, from: PinnedMap, toFd: number): number {
  const own = bpf.mapInfo(toFd);
  if (own.type !== from.type || own.keySize !== from.keySize || own.valueSize !== from.valueSize) return 0;
  const fd = bpf.objGet(from.path);
  let copied = 0;
  try {
    const keys = bpf.mapKeys(fd, from.keySize);
    for (let o = 0; o < keys.length; o += from.keySize) {
      const key = keys.subarray(o, o + from.keySize);
      const value = bpf.mapLookup(fd, key, from.valueSize);
      if (!value || bpf.mapLookup(toFd, key, from.valueSize)) continue; // expired meanwhile, or ours has it
      try {
        bpf.mapUpdate(toFd, key, value, BPF_NOEXIST);
        copied++;
      } catch {
        // ours already has the flow (EEXIST)
      }
    }
  } finally {
    bpf.closeFd(fd);
  }
  return copied;
}

/** Unpins a predecessor; its maps are freed by the kernel once no program uses them. */
export function removePredecessor(p: Predecessor): void {
  if (p.dir.includes(`/${PREFIX}`)) rmSync(p.dir, { recursive: true, force: true });
  else for (const pin of p.pins) unlinkSync(pin);
}
