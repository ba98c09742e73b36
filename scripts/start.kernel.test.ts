// `npm start` end to end, as a user runs it: started as a child in its own process group, waited
// for until its ready line, the commands it prints run as printed (login, site list, flows, policy
// push and rollout, dig, /go, kill a site and watch DNS fail over, weft-agent status), then Ctrl-C
// (SIGINT to the group, as a terminal sends it) and a check that nothing it created is left.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../field-tests/lib/exec.ts';
import { listNetns, sweepStale } from '../field-tests/lib/index.ts';
import { READY_LINE } from './start/banner.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const isRoot = process.getuid?.() === 0;
const hasTools = (await exec(undefined, ['sh', '-c', 'command -v wireguard-go && command -v dig && command -v curl'])).code === 0;
const skip = !isRoot || !hasTools;
if (skip)
  console.warn(
    `scripts/start.kernel.test.ts skipped: ${!isRoot ? 'the demo sites need root (network namespaces, eBPF, WireGuard)' : 'wireguard-go, dig or curl is missing (npm run setup installs them)'}`,
  );

const BOOT_TIMEOUT_MS = 240_000;

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Every process whose command line mentions `needle` (our data dir is unique to this test). */
function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle) && Number(pid) !== process.pid) out.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe.skipIf(skip)('npm start', () => {
  // Made in beforeAll: a describe body runs even when its tests are filtered out, its hooks do not.
  let work = '';
  let dataDir = '';
  let env: NodeJS.ProcessEnv = {};
  let child: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;
  let commands: string[] = [];
  const line = (re: RegExp) => commands.find((c) => re.test(c)) ?? '';
  /** The printed command without its trailing `# comment`, to append flags such as --json. */
  const bare = (re: RegExp) => line(re).replace(/\s+#.*$/, '');

  /** Runs a printed command the way a user pastes it into a shell, from the checkout. */
  const run = (cmd: string) => exec(undefined, ['sh', '-c', cmd], { timeoutMs: 120_000 });
  const runEnv = (cmd: string) =>
    exec(undefined, ['env', `XDG_CONFIG_HOME=${env.XDG_CONFIG_HOME}`, `HOME=${work}`, 'sh', '-c', `cd ${REPO} && ${cmd}`], { timeoutMs: 120_000 });
  const dig = async () => (await run(line(/^dig /))).stdout.trim();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'weft-start-test-'));
    dataDir = join(work, 'state');
    env = { ...process.env, XDG_CONFIG_HOME: join(work, 'config'), HOME: work };
    child = spawn(
      process.execPath,
      [
        'bin/run.mjs',
        'scripts/start.ts',
        '--sites',
        '2',
        '--data-dir',
        dataDir,
        '--https-port',
        '0',
        '--http-port',
        '0',
        '--mqtt-port',
        '0',
        '--dns-port',
        '0',
        '--wg-port',
        String(await freeUdpPort()),
      ],
      {
        cwd: REPO,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    exited = new Promise((r) => child.once('exit', (code) => r(code)));
    const take = (b: Buffer) => {
      output += b.toString('utf8');
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (!output.includes(READY_LINE)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not get ready (exit ${child.exitCode}):\n${output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    commands = output
      .slice(output.indexOf('Try:'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^(npm|dig|curl|kill|ip) /.test(l));
  }, BOOT_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    // Only after a failure is the demo still running: kill its group and sweep what it left.
    if (child?.exitCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      await exited;
      await sweepStale();
      const tag = /wst-\d+-([0-9a-f]{4})-/.exec(output)?.[1];
      if (tag)
        for (const l of (await exec(undefined, ['ip', '-o', 'link'])).stdout.split('\n')) {
          const name = /^\d+: (wst[^:@]+)/.exec(l)?.[1];
          if (name?.startsWith(`wst${tag}`)) await exec(undefined, ['ip', 'link', 'del', name]);
        }
    }
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('prints the URLs, the admin token file and the commands to try', () => {
    expect(output).toMatch(/API {9}https:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(/OpenAPI {5}https:\/\/127\.0\.0\.1:\d+\/docs/);
    expect(output).toMatch(/router DNS {2}127\.0\.0\.1 port \d+, zone svc\.weft\.test/);
    expect(output).toMatch(/router HTTP http:\/\/127\.0\.0\.1:\d+\/go\/web\//);
    expect(output).toContain(`admin token ${join(dataDir, 'hub', 'admin-token')}`);
    expect(commands.length).toBeGreaterThanOrEqual(10);
  });

  it('serves the OpenAPI docs', async () => {
    const url = /OpenAPI {5}\S+ {3}\((\S+)\)/.exec(output)![1];
    const r = await fetch(`${url}/json`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty(['/v1/sites']);
  });

  it('logs in with the printed command and lists both sites enrolled with the demo policy applied', async () => {
    const login = await runEnv(line(/ login /));
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const sites = await runEnv(`${bare(/ site list /)} --json`);
    expect(sites.code).toBe(0);
    const list = JSON.parse(sites.stdout) as { id: string; state: string; lastAck: { result: string } | null }[];
    expect(list.map((s) => [s.id, s.state, s.lastAck?.result])).toEqual([
      ['site1', 'enrolled', 'applied'],
      ['site2', 'enrolled', 'applied'],
    ]);
  }, 120_000);

  it('shows the audit flows the default deny reports, pushes and rolls out enforce, then shows the drops', async () => {
    const flows = async (verdict: string) => {
      for (let i = 0; i < 60; i++) {
        const r = await runEnv(`${bare(new RegExp(` flows --verdict ${verdict}`))} --json`);
        const rows = JSON.parse(r.stdout) as { verdict: string; dport: number; policy: string }[];
        if (rows.length) return rows;
        await new Promise((res) => setTimeout(res, 1000));
      }
      return [];
    };
    const audit = await flows('audit');
    expect(audit[0]).toMatchObject({ verdict: 'audit', dport: 5432, policy: 'NetworkPolicy/shop/db-from-web' });

    const push = await runEnv(line(/ policy push /));
    expect(push.code).toBe(0);
    const version = /pushed version (\d+)/.exec(push.stdout)![1];
    const rollout = await runEnv(line(/ policy rollout /));
    expect(line(/ policy rollout /)).toContain(` rollout ${version} `);
    expect(rollout.stdout).toMatch(/completed/);
    expect(rollout.code).toBe(0);
    const deny = await flows('deny');
    expect(deny[0]).toMatchObject({ verdict: 'deny', dport: 5432, policy: 'NetworkPolicy/shop/db-from-web' });
    // The technician's stream on the site itself (it follows until stopped: a few seconds are enough).
    const follow = await runEnv(`timeout 8 ${bare(/ weft-agent -- flows --follow /)}`);
    expect(follow.stdout).toMatch(/DENY +TCP +[\d.]+:\d+ -> shop\/db-0:5432 +\(ingress, by NetworkPolicy:shop\/db-from-web/);
  }, 180_000);

  it('sends users to the nearest site by DNS and /go; kill that site and DNS fails over', async () => {
    const site1Web = /site1 +\S+ +agent pid \d+ +web ([\d.]+):8080/.exec(output)![1];
    const site2Web = /site2 +\S+ +agent pid \d+ +web ([\d.]+):8080/.exec(output)![1];
    expect(await dig()).toBe(site1Web);
    const go = await run(line(/^curl /));
    expect(go.stdout).toContain('hello from site1');

    const killedAt = Date.now();
    expect((await run(line(/^kill /))).code).toBe(0);
    let answer = '';
    for (let i = 0; i < 300 && answer !== site2Web; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await dig();
    }
    expect(answer).toBe(site2Web);
    // A measurement for the record, not an assertion (the machine may be loaded).
    console.log(`npm start demo: DNS answered site2 ${Date.now() - killedAt} ms after site1's agent was killed`);
    expect((await run(line(/^curl /))).stdout).toContain('hello from site2');

    // The technician's view of the killed site: not running, the kernel still enforcing its last generation.
    const status = await runEnv(line(/ weft-agent -- status /));
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/not running/);
    expect(status.stdout).toMatch(/last good: +generation \d+ \(enforced from the kernel's pinned maps/);
  }, 120_000);

  it('Ctrl-C tears everything down: namespaces, links, WireGuard sockets, pins, processes', async () => {
    const prefix = /network namespaces (wst-\d+-[0-9a-f]{4}-)\*/.exec(output)![1];
    const tag = prefix.split('-')[2];
    expect((await listNetns()).filter((n) => n.startsWith(prefix)).length).toBeGreaterThan(0);
    // The agents pin their maps on the host's bpffs (so a restarted agent adopts them): there is something to remove.
    expect(readdirSync('/sys/fs/bpf').filter((f) => f.startsWith(prefix)).length).toBeGreaterThan(0);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('weft demo: stopped, nothing left behind');

    expect((await listNetns()).filter((n) => n.startsWith(prefix))).toEqual([]);
    expect((await exec(undefined, ['ip', '-o', 'link'])).stdout).not.toContain(`wst${tag}`);
    expect(existsSync('/var/run/wireguard') ? readdirSync('/var/run/wireguard').filter((f) => f.startsWith(`wst${tag}`)) : []).toEqual([]);
    expect(readdirSync('/sys/fs/bpf').filter((f) => f.startsWith(prefix))).toEqual([]);
    expect(processesMentioning(dataDir)).toEqual([]);
    expect(processesMentioning(`wst${tag}`)).toEqual([]);
    expect((await exec(undefined, ['ip', 'route', 'show', '10.101.0.0/24'])).stdout).toBe('');
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith(`weft-field-${child.pid}-`))).toEqual([]);
    // The logs stay for a post-mortem until the next start.
    expect(readdirSync(join(dataDir, 'logs')).some((f) => f.startsWith('agent-site1'))).toBe(true);
  }, 60_000);
});

describe('npm start without root', () => {
  it('runs the hub alone and says how to get the demo sites', async () => {
    const work = mkdtempSync(join(tmpdir(), 'weft-start-noroot-'));
    chmodSync(work, 0o777);
    // As root, drop to nobody: the point is what an unprivileged user gets.
    const drop = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const argv = [
      ...drop,
      process.execPath,
      'bin/run.mjs',
      'scripts/start.ts',
      '--data-dir',
      join(work, 'state'),
      '--https-port',
      '0',
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--dns-port',
      '0',
    ];
    const child = spawn(argv[0], argv.slice(1), { cwd: REPO, env: { ...process.env, HOME: work, XDG_CONFIG_HOME: work }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 120_000;
      while (!out.includes(READY_LINE) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(out).toContain(READY_LINE);
      expect(out).toContain('Running the hub alone: demo sites need root');
      expect(out).toContain('sudo npm start');
      expect(out).not.toContain('Demo sites (');
      const api = /\(local, plain HTTP: (\S+)\)/.exec(out)![1];
      expect((await fetch(`${api}/docs/json`)).status).toBe(200);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toContain('weft demo: stopped');
    } finally {
      child.kill('SIGKILL');
      rmSync(work, { recursive: true, force: true });
    }
  }, 150_000);
});
