// Installing an agent-only update: verify the signed manifest (nothing is written before), download
// the binary resumably and check its bytes, take the gate's baseline from the running agent, record
// the update (pending.json), switch `current` with one rename, start the watcher from the old binary,
// and restart the service into the new one. Pinned maps and the store stay where they are: the kernel
// keeps enforcing the live generation while no agent runs, and the new agent adopts it at start.
import { chmodSync, existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { type SignedRelease, verifyRelease, type ReleaseManifest } from '../../protocol/index.ts';
import type { AgentStatus } from '../status-types.ts';
import { AgentError } from '../errors.ts';
import { download } from './download.ts';
import { baselineOf } from './gate.ts';
import type { Slots } from './slots.ts';

export const DEFAULT_DEADLINE_MS = 120_000;

export interface InstallDeps {
  slots: Slots;
  trustedKeys: ReadonlyMap<string, KeyObject>;
  installed: string;
  /** The running agent's status (the gate's baseline), or null when none answers. */
  status: () => Promise<AgentStatus | null>;
  /** Starts the watcher, detached, from the binary running now (the known-good one). */
  spawnWatcher: () => void;
  /** Restarts the agent service into `current`. */
  restart: () => Promise<void>;
  now: () => number;
  log?: (m: string) => void;
}

export interface UpdateOrder {
  release: SignedRelease;
  url: string;
  rolloutId: number;
  deadlineMs?: number;
  ca?: string;
}

/** The file name the binary of a version gets in the folder. */
export const binaryName = (version: string): string => `weft-agent-${version}`;

export async function installUpdate(d: InstallDeps, order: UpdateOrder): Promise<ReleaseManifest> {
  const log = d.log ?? (() => undefined);
  const m = verifyRelease(order.release, { trustedKeys: d.trustedKeys, kind: 'agent', installed: d.installed });
  const dest = d.slots.path(binaryName(m.version));
  if (!existsSync(dest)) {
    const got = await download({ url: order.url, dest, manifest: m, ca: order.ca });
    log(`downloaded ${m.file}: ${got.fetched} bytes${got.resumedAt ? ` (resumed at ${got.resumedAt})` : ''}`);
  }
  chmodSync(dest, 0o755);
  const before = await d.status();
  const fromFile = d.slots.target('current') ?? d.slots.target('good');
  if (!fromFile) {
    throw new AgentError(
      'UPDATE_NOT_SET_UP',
      `${d.slots.dir} has no current binary: the service does not run through the update layout`,
      'run the agent with ExecStartPre=<image binary> update guard and ExecStart=<data>/agent/current run (docs/technician.md, "Updates")',
    );
  }
  d.slots.setPending({
    from: d.installed,
    to: m.version,
    fromFile,
    toFile: binaryName(m.version),
    baseline: before ? baselineOf(before, m.version) : { version: m.version, generation: 0, podsAttached: 0, tunnel: false, broker: false },
    swappedAt: d.now(),
    deadlineMs: order.deadlineMs ?? DEFAULT_DEADLINE_MS,
    attempts: 0,
    rolloutId: order.rolloutId,
  });
  d.slots.point('current', binaryName(m.version));
  d.spawnWatcher();
  log(`switched to ${m.version}; restarting`);
  await d.restart();
  return m;
}
