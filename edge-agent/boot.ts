// The boot sequence, everything before the network: open the store (read-write, else read-only, else
// none), then the datapath, then the last-known-good bundle verified and adopted or applied. run.ts
// calls it before it touches the hub, the tunnel or k3s, so enforcement never waits for them. The
// datapath step fails closed: a kernel datapath that cannot load throws its coded error and nothing is
// enforced (the caller says so and retries); the in-memory one is used only when the config names it.
import { openStore, type AgentStore, type JsonValue, type OpenStoreOptions } from '../offline-store/index.ts';
import { selectDatapath, type KernelLoader, type SelectedDatapath } from './datapath-select.ts';
import type { DatapathChoice } from './config.ts';
import { Enforcer, type CompileFn, type EnforcerOptions } from './enforcer.ts';
import { formatError } from '../base/index.ts';
import type { KubeSnapshot } from './kube/types.ts';
import type { Logger } from './logger.ts';
import type { AgentMetrics } from './metrics.ts';
import { restoreLastKnownGood, type RestoreResult } from './restore.ts';
import type { VethResolver } from './veth.ts';

/** The key under which the last k3s inventory is kept, so an offline restart compiles for the same pods. */
export const INVENTORY_KEY = 'inventory';

export interface OpenedStore {
  store: AgentStore | null;
  /** Why it could not be opened read-write (null: it was, or not at all). */
  error: string | null;
  /** Why it could not be opened at all, even read-only (null: it is open). */
  unavailable: string | null;
}

/** Opens the store read-write, else read-only; never throws: the pinned kernel state enforces without it. */
export function openAgentStore(path: string, options: OpenStoreOptions | undefined, log: Logger): OpenedStore {
  const onEvent = (e: { type: string }) => log.warn({ event: e }, 'store event');
  try {
    const store = openStore(path, { onEvent, ...options });
    if (store.opened.kind === 'recovered') log.error({ opened: store.opened }, 'store was corrupt and was moved aside; enforcing from the pinned kernel state');
    return { store, error: null, unavailable: null };
  } catch (e) {
    const error = formatError(e);
    log.error({ err: error, path }, 'cannot open the store read-write; trying read-only');
    try {
      return { store: openStore(path, { readonly: true, onEvent }), error, unavailable: null };
    } catch (e2) {
      log.error({ err: formatError(e2) }, 'store unavailable; enforcing from the pinned kernel state only');
      return { store: null, error, unavailable: oneLine(e) };
    }
  }
}

export interface BootOptions {
  choice: DatapathChoice;
  /** A datapath chosen by the caller (tests); otherwise selectDatapath(choice). */
  selected?: SelectedDatapath;
  loadKernel: KernelLoader;
  store: AgentStore | null;
  log: Logger;
  metrics: AgentMetrics;
  compile: CompileFn;
  resolveVeth: VethResolver;
  nodeName: string;
  debounceMs: number;
  onApplied: EnforcerOptions['onApplied'];
}

export interface Booted {
  selected: SelectedDatapath;
  enforcer: Enforcer;
  restored: RestoreResult;
}

/** Datapath -> enforcer (seeded with the saved inventory) -> last-known-good. Throws an AgentError when the kernel datapath cannot load. */
export async function bootEnforcement(o: BootOptions): Promise<Booted> {
  const selected = o.selected ?? (await selectDatapath(o.choice, { loadKernel: o.loadKernel, log: o.log }));
  const enforcer = new Enforcer({
    datapath: selected.datapath,
    compile: o.compile,
    resolveVeth: o.resolveVeth,
    log: o.log,
    metrics: o.metrics,
    nodeName: o.nodeName,
    debounceMs: o.debounceMs,
    onApplied: o.onApplied,
  });
  const saved = o.store?.config.get<JsonValue>(INVENTORY_KEY);
  if (saved) enforcer.seedInventory(saved as unknown as KubeSnapshot);
  const kernelGeneration = await selected.datapath.appliedGeneration();
  const restored = await restoreLastKnownGood(o.store, enforcer, kernelGeneration, o.log);
  return { selected, enforcer, restored };
}

/** An error as one console line: `message (CODE); fix: hint`. */
function oneLine(e: unknown): string {
  const x = e as { message?: string; code?: string; hint?: string };
  return `${x.message ?? String(e)}${x.code ? ` (${x.code})` : ''}${x.hint ? `; fix: ${x.hint}` : ''}`;
}
