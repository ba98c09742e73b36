// `weft-agent doctor`: every check a technician needs, each failure naming its fix. Exit 1 when any
// check fails. Checks run independently; one that cannot run says why instead of failing the rest.
import { existsSync, statfsSync } from 'node:fs';
import { connect } from 'node:net';
import { release } from 'node:os';
import { artifactPaths, checkKernelVersion, planBpffs, probeBpffs } from '../datapath/index.ts';
import { openStore, type AgentStore } from '../offline-store/index.ts';
import type { AgentConfig } from './config.ts';
import { formatError, errorMessage } from '../base/index.ts';
import { kubeSource } from './kube-source.ts';
import { TUNNEL_STALE_S } from './heartbeat.ts';
import { getJson } from './local-client.ts';
import { pinnedRequest } from './pinned-https.ts';
import { readProvisionFile } from './provision-file.ts';
import type { AgentStatus } from './status-types.ts';

export interface CheckResult {
  name: string;
  status: 'ok' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  /** Clock skew beyond this fails (default 60 s): bundles, TLS and tokens carry times. */
  maxSkewMs?: number;
  /** Free space below this fails (default 64 MiB). */
  minFreeBytes?: number;
  timeoutMs?: number;
  now?: () => number;
}

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });
const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });

/** The same decision the datapath makes at start: a bpffs that outlives the agent covers the pin root, or one can be mounted. */
function bpffsCheck(pinRoot: string): CheckResult {
  if (!existsSync('/proc/mounts')) return skip('bpffs', 'no /proc/mounts to read');
  const plan = planBpffs(pinRoot, probeBpffs());
  if (plan.kind === 'ok') return ok('bpffs', `${pinRoot} is on the bpffs mounted at ${plan.mount}`);
  if (plan.kind === 'mount') return ok('bpffs', 'not mounted yet; the agent mounts it on /sys/fs/bpf at start (host mount namespace)');
  return fail('bpffs', plan.error.message.split('\n')[0], plan.error.hint ?? '');
}

function kernelChecks(pinRoot: string): CheckResult[] {
  const out: CheckResult[] = [];
  try {
    checkKernelVersion();
    out.push(ok('kernel', `Linux ${release()}`));
  } catch (e) {
    out.push(fail('kernel', formatError(e), 'upgrade the kernel to 5.8 or newer'));
  }
  out.push(
    existsSync('/sys/kernel/btf/vmlinux')
      ? ok('btf', '/sys/kernel/btf/vmlinux present')
      : fail('btf', 'the kernel exposes no BTF', 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (the Weft image ships one)'),
  );
  out.push(bpffsCheck(pinRoot));
  const root = process.getuid?.() === 0;
  out.push(
    root
      ? ok('privileges', 'running as root')
      : fail(
          'privileges',
          'not root: the kernel datapath cannot load',
          'run the agent as root (the systemd unit does), or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON',
        ),
  );
  const a = artifactPaths();
  const missing = [a.addon, a.objects.podEgress, a.objects.podIngress].filter((f) => !existsSync(f));
  out.push(
    missing.length === 0
      ? ok('datapath files', `BPF objects and addon in ${a.objectDir}`)
      : fail('datapath files', `missing: ${missing.join(', ')}`, 'reinstall the weft-agent binary (it carries them), or `npm run build:bpf` in a checkout'),
  );
  return out;
}

function diskCheck(cfg: AgentConfig, min: number): CheckResult {
  try {
    const s = statfsSync(existsSync(cfg.dataDir) ? cfg.dataDir : '/');
    const free = s.bavail * s.bsize;
    const mib = Math.round(free / 2 ** 20);
    return free >= min
      ? ok('disk space', `${mib} MiB free under ${cfg.dataDir}`)
      : fail(
          'disk space',
          `only ${mib} MiB free under ${cfg.dataDir}`,
          'free space on the data partition (old logs: journalctl --vacuum-size=50M); the agent keeps enforcing but cannot store new bundles',
        );
  } catch (e) {
    return fail('disk space', errorMessage(e), `create ${cfg.dataDir} or set dataDir`);
  }
}

function storeChecks(cfg: AgentConfig): { results: CheckResult[]; store: AgentStore | null } {
  if (!existsSync(cfg.storePath))
    return {
      results: [fail('database', `no store at ${cfg.storePath}`, 'start the agent once (weft-agent run) or enroll (weft-agent enroll --file)')],
      store: null,
    };
  try {
    const store = openStore(cfg.storePath, { readonly: true, integrityCheck: 'quick' });
    const r = store.checkIntegrity('full');
    const results = [
      r.ok
        ? ok('database', `integrity ok, schema v${store.schemaVersion}`)
        : fail(
            'database',
            `integrity check failed: ${r.problems.slice(0, 3).join('; ')}`,
            'restart the agent: it moves a corrupt store aside and rebuilds it; the kernel keeps enforcing meanwhile',
          ),
    ];
    const e = store.identity.enrollment();
    results.push(
      e
        ? ok('enrollment', `site ${e.siteId}, broker ${e.broker.url}`)
        : fail(
            'enrollment',
            'this device is not enrolled',
            `place weft-provision.json at ${cfg.provisionFile} and restart, or run weft-agent enroll --file <file>`,
          ),
    );
    return { results, store };
  } catch (e) {
    return {
      results: [fail('database', formatError(e), 'restart the agent to recover the store; check the data partition is mounted read-write')],
      store: null,
    };
  }
}

async function hubChecks(cfg: AgentConfig, store: AgentStore | null, o: Required<DoctorOptions>): Promise<CheckResult[]> {
  let hubUrl = store?.config.get<string>('hubUrl');
  let fp = store?.identity.enrollment()?.hubCaFingerprint;
  if ((!hubUrl || !fp) && existsSync(cfg.provisionFile)) {
    try {
      const p = readProvisionFile(cfg.provisionFile);
      hubUrl = p.hubUrl;
      fp = p.caFingerprint;
    } catch {
      // Reported by the enrollment check.
    }
  }
  if (!hubUrl || !fp) return [skip('hub', 'hub URL unknown (not enrolled, no provisioning file)'), skip('clock', 'no hub to compare with')];
  const out: CheckResult[] = [];
  try {
    const res = await pinnedRequest(new URL('/healthz', hubUrl), fp, { method: 'GET', timeoutMs: o.timeoutMs });
    out.push(ok('hub', `${hubUrl} answered HTTP ${res.status} over TLS pinned to its CA`));
    if (res.date === null) out.push(skip('clock', 'the hub sent no Date header'));
    else {
      const skew = o.now() - res.date;
      out.push(
        Math.abs(skew) <= o.maxSkewMs
          ? ok('clock', `within ${Math.round(Math.abs(skew) / 1000)} s of the hub`)
          : fail(
              'clock',
              `this device's clock is ${Math.round(skew / 1000)} s ${skew > 0 ? 'ahead of' : 'behind'} the hub`,
              'enable NTP (timedatectl set-ntp true) or set the time (date -s); TLS and tokens fail with a wrong clock',
            ),
      );
    }
  } catch (e) {
    const err = e as { code?: string; hint?: string };
    out.push(fail('hub', formatError(e).split('\n')[0], err.hint ?? 'check the uplink and the hub URL'));
    out.push(
      err.code === 'ENROLL_CLOCK_SKEW'
        ? fail('clock', formatError(e).split('\n')[0], 'enable NTP (timedatectl set-ntp true) or set the time')
        : skip('clock', 'hub not reachable'),
    );
  }
  const broker = store?.identity.enrollment()?.broker.url;
  if (broker) out.push(await tcpCheck('broker', broker, o.timeoutMs));
  return out;
}

function tcpCheck(name: string, url: string, timeoutMs: number): Promise<CheckResult> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883));
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port, timeout: timeoutMs });
    s.once('connect', () => {
      s.destroy();
      resolve(ok(name, `${u.host} accepts connections`));
    });
    const bad = (why: string) => {
      s.destroy();
      resolve(
        fail(
          name,
          `${u.host}: ${why}`,
          'the broker is reached through the tunnel: check the tunnel check below, the hub, and `ip route get ' + u.hostname + '`',
        ),
      );
    };
    s.once('timeout', () => bad(`no answer within ${timeoutMs} ms`));
    s.once('error', (e: NodeJS.ErrnoException) => bad(e.code ?? e.message));
  });
}

async function kubeCheck(cfg: AgentConfig, timeoutMs: number): Promise<CheckResult> {
  const src = kubeSource(cfg);
  if (!src) return skip('k3s', 'no kubeconfig and not in a pod: the agent runs as a host service without k3s');
  const inv = src.make();
  try {
    const snap = await Promise.race([
      inv.start(),
      new Promise<never>((_, rj) => setTimeout(() => rj(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    return ok('k3s', `${src.describe}: ${snap.pods.length} pods, ${snap.namespaces.length} namespaces, ${snap.policies.length} policies`);
  } catch (e) {
    const err = e as { hint?: string };
    return fail(
      'k3s',
      `${src.describe}: ${formatError(e).split('\n')[0]}`,
      err.hint ?? 'is k3s running? `systemctl status k3s`; the agent needs list/watch on pods, namespaces and networkpolicies',
    );
  } finally {
    await inv.stop().catch(() => undefined);
  }
}

async function agentChecks(cfg: AgentConfig): Promise<CheckResult[]> {
  let s: AgentStatus;
  try {
    s = await getJson<AgentStatus>(cfg, '/status');
  } catch {
    return [
      fail('agent', 'the agent is not running (status API unreachable)', 'systemctl restart weft-agent; then journalctl -u weft-agent -n 50'),
      skip('tunnel', 'agent not running'),
    ];
  }
  const out = [
    s.enforcing
      ? ok('agent', s.state)
      : fail(
          'agent',
          s.state,
          s.enrolled ? 'no bundle applied yet: check the hub link and `weft-agent status`' : 'enroll the device (weft-agent enroll --file)',
        ),
  ];
  const ne = s.datapath.notEnforcing;
  if (ne)
    out.push(
      fail(
        'datapath',
        `not enforcing: ${ne.reason} (${ne.code})`,
        s.datapath.kind === 'memory'
          ? 'packets are not filtered: remove `datapath: memory` from the config and restart the agent'
          : `packets are not filtered: ${ne.fix ?? 'fix the kernel checks above'}; the agent retries the kernel datapath by itself`,
      ),
    );
  if (!s.tunnel) out.push(skip('tunnel', 'not configured'));
  else if (s.tunnel.handshakeAgeS !== null && s.tunnel.handshakeAgeS < TUNNEL_STALE_S) out.push(ok('tunnel', `last handshake ${s.tunnel.handshakeAgeS} s ago`));
  else
    out.push(
      fail(
        'tunnel',
        s.tunnel.handshakeAgeS === null ? 'no handshake with the hub yet' : `last handshake ${s.tunnel.handshakeAgeS} s ago`,
        'UDP to the hub endpoint blocked? check the firewall for the WireGuard port and `wg show`',
      ),
    );
  return out;
}

export async function runDoctor(cfg: AgentConfig, opts: DoctorOptions = {}): Promise<CheckResult[]> {
  const o: Required<DoctorOptions> = { maxSkewMs: 60_000, minFreeBytes: 64 * 2 ** 20, timeoutMs: 5000, now: Date.now, ...opts };
  const { results: storeResults, store } = storeChecks(cfg);
  try {
    const [hub, kube, agent] = await Promise.all([hubChecks(cfg, store, o), kubeCheck(cfg, o.timeoutMs), agentChecks(cfg)]);
    return [...kernelChecks(cfg.pinRoot), diskCheck(cfg, o.minFreeBytes), ...storeResults, ...hub, kube, ...agent];
  } finally {
    store?.close();
  }
}

export function formatDoctor(results: CheckResult[]): string {
  const mark = { ok: 'ok  ', fail: 'FAIL', skip: 'skip' } as const;
  return results.map((r) => `${mark[r.status]}  ${r.name.padEnd(15)}${r.detail}${r.fix ? `\n      fix: ${r.fix}` : ''}`).join('\n');
}
