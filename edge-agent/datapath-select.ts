// Picks the datapath the config names, and fails closed: `libbpf` is the kernel datapath, the only one
// that filters packets; when it cannot load, this throws a coded error and the agent says `not enforcing`
// and retries (run.ts), never falling back to the in-memory fake. `memory` is that fake, only by name
// (tests, demos without root), logged loudly and reported to the hub as not enforcing in the kernel.
import { type Datapath, LibbpfDatapath, MemoryDatapath } from '../datapath/index.ts';
import type { MapLimits } from '../policy/index.ts';
import type { DatapathChoice } from './config.ts';
import { AgentError } from './errors.ts';
import type { Logger } from './logger.ts';

export type DatapathKind = 'libbpf' | 'memory';

export interface SelectedDatapath {
  kind: DatapathKind;
  datapath: Datapath;
}

/** Opens the kernel datapath (the one door to it here); tests inject one whose BPF objects fail to load. */
export type KernelLoader = () => Promise<Datapath>;

export function libbpfLoader(opts: { pinRoot: string; limits?: MapLimits; fqdnMinTtl?: number; fqdnGrace?: number }): KernelLoader {
  return () => LibbpfDatapath.open({ pinRoot: opts.pinRoot, limits: opts.limits, fqdnMinTtl: opts.fqdnMinTtl, fqdnGrace: opts.fqdnGrace });
}

/** Throws an AgentError (the loader's DATAPATH_* code, else DATAPATH_LOAD) when the kernel datapath cannot load. */
export async function selectDatapath(choice: DatapathChoice, opts: { loadKernel: KernelLoader; limits?: MapLimits; log: Logger }): Promise<SelectedDatapath> {
  if (choice === 'memory') {
    opts.log.warn('datapath: in-memory (asked for by config); packets are NOT filtered by the kernel');
    return { kind: 'memory', datapath: new MemoryDatapath({ limits: opts.limits }) };
  }
  try {
    const dp = await opts.loadKernel();
    opts.log.info('datapath: libbpf (kernel)');
    return { kind: 'libbpf', datapath: dp };
  } catch (e) {
    const err = e as Error & { code?: string; hint?: string };
    const hint = err.hint ?? (process.getuid?.() === 0 ? 'run `weft-agent doctor`' : 'run the agent as root (it loads BPF programs)');
    // A DatapathError carries its code and hint in its message too: keep the first line without them.
    const message = (err.message ?? String(e)).split('\n')[0].replace(` (${err.code})`, '');
    throw new AgentError(err.code ?? 'DATAPATH_LOAD', `kernel datapath unavailable: ${message}`, hint, e);
  }
}
