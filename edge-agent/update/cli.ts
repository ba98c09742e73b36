// `weft-agent update <sub>`: agent-only updates on a host or a DaemonSet node.
//   update guard               ExecStartPre of the service, run from the image's binary: first start
//                              sets up the folder; after a swap, counts the start, starts a watcher,
//                              or rolls back when the new binary used its tries
//   update apply --release <file.release.json> --url <artifact url> [--deadline-s N]
//                              verify, download (resumable), switch, watch, restart
//   update watch               the health gate of a switched update (started by apply and by guard)
//   update rollback            back to the previous binary by hand
//   update status [--json]     binaries, what runs, what is pending, how the last update ended
// Options: --update-dir (default <data-dir>/agent), --release-keys (default /etc/weft/release-keys.json),
// --restart-cmd (default `systemctl restart weft-agent.service`).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, WeftError } from '../../base/index.ts';
import type { SignedRelease } from '../../protocol/index.ts';
import type { AgentConfig } from '../config.ts';
import { AgentError } from '../errors.ts';
import { collectStatus } from '../status-cmd.ts';
import { AGENT_VERSION } from '../version.ts';
import { guardStep } from './guard.ts';
import { DEFAULT_DEADLINE_MS, installUpdate } from './install.ts';
import { Slots } from './slots.ts';
import { heldReleaseKeys } from './trust.ts';
import { watchUpdate } from './watch.ts';

export const UPDATE_FLAGS = ['update-dir', 'release-keys', 'restart-cmd', 'release', 'url', 'deadline-s', 'rollout-id'];
const DEFAULT_RELEASE_KEYS = '/etc/weft/release-keys.json';
const DEFAULT_RESTART = 'systemctl restart weft-agent.service';

type Flags = Record<string, string | true>;
const str = (f: Flags, k: string): string | undefined => (typeof f[k] === 'string' ? (f[k] as string) : undefined);

function slotsOf(cfg: AgentConfig, flags: Flags): Slots {
  const dir = str(flags, 'update-dir') ?? join(cfg.dataDir, 'agent');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return new Slots(dir);
}

async function restart(flags: Flags): Promise<void> {
  await run(['sh', '-c', str(flags, 'restart-cmd') ?? DEFAULT_RESTART]);
}

/** The flags a child `weft-agent` needs to find the same agent and folder. */
function passOn(flags: Flags): string[] {
  return Object.entries(flags).flatMap(([k, v]) => (typeof v === 'string' && !['release', 'url', 'deadline-s', 'rollout-id'].includes(k) ? [`--${k}`, v] : []));
}

function watcherAlive(slots: Slots): boolean {
  try {
    const pid = Number(readFileSync(slots.path('watch.pid'), 'utf8'));
    process.kill(pid, 0);
    return pid !== process.pid;
  } catch {
    return false;
  }
}

/** The watcher, detached from this process and its service's cgroup lifetime, from this (known-good) binary. */
function spawnWatcher(flags: Flags): void {
  // From a checkout (node bin/weft-agent.mjs or a .ts entry) the script comes first; the single binary is its own script.
  const script = process.argv[1];
  const args = script && script !== process.execPath && /\.(m?js|ts)$/.test(script) ? [...process.execArgv, script] : [];
  const child = spawn(process.execPath, [...args, 'update', 'watch', ...passOn(flags)], { detached: true, stdio: 'ignore' });
  child.unref();
}

export async function cmdUpdate(cfg: AgentConfig, sub: string | undefined, flags: Flags, print: (s: string) => void): Promise<number> {
  const slots = slotsOf(cfg, flags);
  switch (sub) {
    case 'guard': {
      // First start: the binary the image ships is current and good.
      if (!slots.target('current')) slots.point('current', process.execPath);
      if (!slots.target('good')) slots.point('good', slots.target('current') as string);
      const p = slots.pending();
      const d = guardStep({ pending: p, current: slots.target('current'), watcherAlive: watcherAlive(slots) });
      if (d.kind === 'abandon') slots.clearPending();
      else if (d.kind === 'rollback' && p) {
        slots.point('current', p.fromFile);
        slots.setResult({
          version: p.to,
          from: p.from,
          state: 'rolled-back',
          code: 'UPDATE_START_FAILED',
          reason: d.reason,
          at: new Date().toISOString(),
          rolloutId: p.rolloutId,
        });
        slots.clearPending();
      } else if (d.kind === 'watch' && p) {
        slots.setPending({ ...p, attempts: d.attempts });
        if (d.spawnWatcher) spawnWatcher(flags);
      }
      print(d.kind);
      return 0;
    }
    case 'watch': {
      writeFileSync(slots.path('watch.pid'), String(process.pid), { mode: 0o600 });
      try {
        const out = await watchUpdate({
          slots,
          status: async () => (await collectStatus(cfg)).status,
          now: Date.now,
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          restart: () => restart(flags),
          log: (m) => process.stderr.write(`weft-agent update: ${m}\n`),
        });
        print(JSON.stringify(out));
        return out.kind === 'rolled-back' ? 1 : 0;
      } finally {
        rmSync(slots.path('watch.pid'), { force: true });
      }
    }
    case 'apply': {
      const file = str(flags, 'release');
      const url = str(flags, 'url');
      if (!file || !url) throw new AgentError('USAGE', 'update apply needs --release <file.release.json> and --url <artifact url>');
      let release: SignedRelease;
      try {
        release = JSON.parse(readFileSync(file, 'utf8')) as SignedRelease;
      } catch (e) {
        throw new AgentError('USAGE', `${file} is not a release manifest (JSON)`, 'use the .release.json from `npm run build:release`', e);
      }
      const deadline = str(flags, 'deadline-s');
      const rolloutId = Number(str(flags, 'rollout-id') ?? 0);
      const refused = (e: unknown) => {
        // Refused before anything was switched: recorded for the hub (the agent reports it), then shown.
        if (e instanceof WeftError) {
          const version = (() => {
            try {
              return (JSON.parse(release.payload) as { version?: string }).version ?? '?';
            } catch {
              return '?';
            }
          })();
          slots.setResult({ version, from: AGENT_VERSION, state: 'refused', code: e.code, reason: e.message, at: new Date().toISOString(), rolloutId });
        }
        throw e;
      };
      const held = (() => {
        try {
          return heldReleaseKeys(slots, str(flags, 'release-keys') ?? DEFAULT_RELEASE_KEYS);
        } catch (e) {
          return refused(e);
        }
      })();
      const m = await installUpdate(
        {
          slots,
          trustedKeys: held.keys,
          installed: AGENT_VERSION,
          status: async () => (await collectStatus(cfg)).status,
          spawnWatcher: () => spawnWatcher(flags),
          restart: () => restart(flags),
          now: Date.now,
          log: (m) => process.stderr.write(`weft-agent update: ${m}\n`),
        },
        { release, url, rolloutId, deadlineMs: deadline ? Number(deadline) * 1000 : DEFAULT_DEADLINE_MS },
      ).catch(refused);
      print(flags.json ? JSON.stringify({ switched: m.version }) : `switched to ${m.version}; the watcher blesses it or rolls back`);
      return 0;
    }
    case 'rollback': {
      const prev = slots.target('previous');
      if (!prev) throw new AgentError('UPDATE_NO_PREVIOUS', 'there is no previous agent binary to go back to', 'the folder keeps one after a blessed update');
      slots.clearPending();
      slots.point('current', prev);
      slots.point('good', prev);
      await restart(flags);
      print(`back to ${prev}`);
      return 0;
    }
    case 'status': {
      const s = {
        current: slots.target('current'),
        good: slots.target('good'),
        previous: slots.target('previous'),
        pending: slots.pending(),
        last: slots.lastResult(),
      };
      print(
        flags.json
          ? JSON.stringify(s)
          : [
              `running binary: ${s.current ?? '(none yet)'}`,
              `known good: ${s.good ?? '(none yet)'}  previous: ${s.previous ?? '(none)'}`,
              s.pending ? `pending: ${s.pending.from} -> ${s.pending.to}, try ${s.pending.attempts}` : 'pending: none',
              s.last
                ? `last update: ${s.last.from} -> ${s.last.version} ${s.last.state}${s.last.reason ? `: ${s.last.reason}` : ''} (${s.last.at})`
                : 'last update: none',
            ].join('\n'),
      );
      return 0;
    }
    default:
      throw new AgentError('USAGE', `update ${sub ?? ''}: want guard, apply, watch, rollback or status`, 'see `weft-agent help`');
  }
}
