// Typed access to the libbpf addon (datapath/addon/weft_bpf.cc), loaded by path: no `bindings`
// package, so the single-binary agent can ship the .node file beside its BPF objects.
import { createRequire } from 'node:module';
import { artifactPaths, requireArtifacts } from './artifacts.ts';

export interface BpfObjectHandle {
  mapFd(name: string): number;
  progFd(name: string): number;
  close(): void;
}

export interface RingBufferHandle {
  close(): void;
  ref(): void;
  unref(): void;
  /** Consume what is there now (the poll callback does this when the fd is readable). */
  drain(): void;
}

export interface NativeBpf {
  BpfObject: new (path: string, pinRoot: string, maxEntries: Record<string, number>) => BpfObjectHandle;
  RingBuffer: new (mapFd: number, onRecords: (records: Buffer[]) => void) => RingBufferHandle;
  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapKeys(fd: number, keySize: number): Buffer;
  mapUpdateBatch(fd: number, keys: Buffer, values: Buffer, count: number, flags: number): number;
  mapDeleteBatch(fd: number, keys: Buffer, count: number): number;
  /** Settles after an RCU grace period (membarrier MEMBARRIER_CMD_GLOBAL): every program run begun before has ended. */
  synchronizeRcu(): Promise<void>;
  numPossibleCpus(): number;
  tcAttach(ifindex: number, point: 'ingress' | 'egress', progFd: number, handle: number, priority: number, netns?: string): number;
  tcDetach(ifindex: number, point: 'ingress' | 'egress', handle: number, priority: number, netns?: string): boolean;
  tcQuery(ifindex: number, point: 'ingress' | 'egress', handle: number, priority: number, netns?: string): number;
  /** Every interface of the namespace (ours when absent), by ifindex. */
  netLinks(netns?: string): number[];
  /** What pinned maps depend on: one line per map (name, type, sizes, flags) and per program (name, section). */
  objectLayout(path: string): string[];
  /** An fd of the object pinned at path; close it with closeFd. */
  objGet(path: string): number;
  closeFd(fd: number): void;
  mapInfo(fd: number): { id: number; type: number; keySize: number; valueSize: number };
  /** The maps a loaded program uses ([] when the program is gone). */
  progMapIds(progId: number): number[];
  testRun(progFd: number, packet: Buffer, repeat: number): { retval: number; durationNs: number; data: Buffer };
  libbpfVersion(): string;
}

/** Errors thrown by the addon carry the errno and libbpf's messages (the verifier log among them). */
export interface NativeError extends Error {
  errno?: number;
  log?: string;
}

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;

let loaded: NativeBpf | undefined;

export function native(): NativeBpf {
  if (!loaded) loaded = createRequire(import.meta.url)(requireArtifacts(artifactPaths()).addon) as NativeBpf;
  return loaded;
}
