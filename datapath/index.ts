// datapath/: the TypeScript side of the kernel datapath (the BPF C lives in bpf/). What other parts
// may use: the Datapath interface, the kernel implementation over the libbpf addon, the in-memory
// one (the agent's fallback and the fake for tests above the datapath), where the built artifacts
// live, the kernel checks, and the map layouts for tests that read pinned maps. Test harnesses
// (namespaces, pin roots) are in ./testing/index.ts so the product does not bundle them.
export type { CounterSample, Counters, Datapath, DropSample, Endpoint, FiveTuple, VerdictEvent } from './datapath.ts';
export { DROP_REASONS } from './drop-reasons.ts';
export type { DropReason } from './drop-reasons.ts';
export { DatapathError } from './errors.ts';
export type { DatapathErrorCode } from './errors.ts';
export { DEFAULT_PIN_ROOT, LibbpfDatapath, encodeTables } from './libbpf-datapath.ts';
export type { LibbpfDatapathOptions } from './libbpf-datapath.ts';
export { MemoryDatapath } from './testing/memory-datapath.ts';
export type { MemoryDatapathOptions } from './testing/memory-datapath.ts';
export { BPF_PROGRAMS, SOURCE_ARTIFACTS, artifactPaths, requireArtifacts } from './artifacts.ts';
export type { ArtifactPaths } from './artifacts.ts';
export { checkKernelVersion } from './kernel-features.ts';
export { BPFFS_ROOT, ensureBpffs, planBpffs, probeBpffs } from './bpffs.ts';
export type { BpffsFacts, BpffsPlan } from './bpffs.ts';
export { frame } from './packet.ts';
export type { PacketSpec } from './packet.ts';
export * as layout from './layout.ts';
