// Picks the datapath: the kernel one (libbpf) when running as root and the artifacts and kernel
// allow it, else the in-memory one, which enforces nothing on real packets; that choice is logged
// loudly and shown in status. `datapath: libbpf|memory` in the config forces either.
import type { Datapath } from '../datapath/index.ts';
import { LibbpfDatapath, MemoryDatapath } from '../datapath/index.ts';
import type { MapLimits } from '../policy/tables.ts';
import type { DatapathChoice } from './config.ts';
import { AgentError } from './errors.ts';
import type { Logger } from './logger.ts';

export type DatapathKind = 'libbpf' | 'memory';

export interface SelectedDatapath {
  kind: DatapathKind;
  datapath: Datapath;
  /** Why memory was chosen under `auto` (empty for libbpf or a forced choice). */
  fallbackReason?: string;
}

export async function selectDatapath(choice: DatapathChoice, opts: { pinRoot: string; limits?: MapLimits; log: Logger }): Promise<SelectedDatapath> {
  if (choice === 'memory') {
    opts.log.warn('datapath: in-memory (forced by config); packets are NOT filtered by the kernel');
    return { kind: 'memory', datapath: new MemoryDatapath({ limits: opts.limits }) };
  }
  const isRoot = process.getuid?.() === 0;
  if (!isRoot && choice === 'auto') {
    const why = 'not running as root';
    opts.log.warn({ reason: why }, 'datapath: in-memory fallback; packets are NOT filtered by the kernel');
    return { kind: 'memory', datapath: new MemoryDatapath({ limits: opts.limits }), fallbackReason: why };
  }
  try {
    const dp = await LibbpfDatapath.open({ pinRoot: opts.pinRoot, limits: opts.limits });
    opts.log.info({ pinRoot: opts.pinRoot }, 'datapath: libbpf (kernel)');
    return { kind: 'libbpf', datapath: dp };
  } catch (e) {
    const err = e as Error & { code?: string; hint?: string };
    if (choice === 'libbpf')
      throw new AgentError(err.code ?? 'DATAPATH_LOAD', `kernel datapath unavailable: ${err.message}`, err.hint ?? 'run `weft-agent doctor`');
    opts.log.warn({ reason: err.message, code: err.code }, 'datapath: in-memory fallback; packets are NOT filtered by the kernel');
    return { kind: 'memory', datapath: new MemoryDatapath({ limits: opts.limits }), fallbackReason: err.message };
  }
}
