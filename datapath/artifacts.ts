// Where the built BPF objects and the native addon live. One module, so the agent's single-binary
// packaging (edge-agent/packaging) finds the same files the datapath loads. The packaged agent
// extracts them into a directory and points WEFT_BPF_ARTIFACTS at it (flat: *.o and weft_bpf.node).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatapathError } from './errors.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

export const BPF_PROGRAMS = {
  /** tc ingress of the host-side veth: the pod's egress. */
  podEgress: { object: 'pod_egress.o', program: 'weft_pod_egress' },
  /** tc egress of the host-side veth: the pod's ingress. */
  podIngress: { object: 'pod_ingress.o', program: 'weft_pod_ingress' },
} as const;

export interface ArtifactPaths {
  /** Directory of the compiled BPF objects (and vmlinux.h when built from source). */
  objectDir: string;
  addon: string;
  objects: { podEgress: string; podIngress: string };
}

/** The repo's build layout: build/bpf/*.o, datapath/addon/build/Release/weft_bpf.node. */
export const SOURCE_ARTIFACTS: ArtifactPaths = {
  objectDir: join(repo, 'build', 'bpf'),
  addon: join(repo, 'datapath', 'addon', 'build', 'Release', 'weft_bpf.node'),
  objects: {
    podEgress: join(repo, 'build', 'bpf', BPF_PROGRAMS.podEgress.object),
    podIngress: join(repo, 'build', 'bpf', BPF_PROGRAMS.podIngress.object),
  },
};

export function artifactPaths(dir = process.env.WEFT_BPF_ARTIFACTS): ArtifactPaths {
  if (!dir) return SOURCE_ARTIFACTS;
  return {
    objectDir: dir,
    addon: join(dir, 'weft_bpf.node'),
    objects: { podEgress: join(dir, BPF_PROGRAMS.podEgress.object), podIngress: join(dir, BPF_PROGRAMS.podIngress.object) },
  };
}

export function requireArtifacts(p: ArtifactPaths = artifactPaths()): ArtifactPaths {
  const missing = [p.addon, p.objects.podEgress, p.objects.podIngress].filter((f) => !existsSync(f));
  if (missing.length) {
    throw new DatapathError(
      'DATAPATH_BUILD',
      `datapath artifacts missing: ${missing.join(', ')}`,
      'run `npm run build:bpf` (needs clang, bpftool, libbpf-dev, libelf-dev, zlib1g-dev, g++, make)',
    );
  }
  return p;
}
