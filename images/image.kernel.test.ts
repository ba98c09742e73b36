// The appliance, end to end, as a technician meets it: the built image (single-binary agent inside)
// is provisioned with `image:provision`, booted under qemu (TCG) with user networking that reaches
// nothing but a real hub on the host's loopback, and read over its serial console.
//   A (store-042, valid token):  first boot enrolls by itself and enforces the hub's generation;
//                                power cut; second boot enforces again without the token, and the
//                                technician logs in on the console and runs `weft-agent status`.
//   B (store-043, expired token): boots alongside A's first boot; shows the clear error, retries,
//                                and the hub holds no ghost site.
// Three boots in two rounds keep CI's budget; the waits are long because TCG on a shared 2-core
// machine is slow, and nothing here asserts a speed (the time is recorded, not judged).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { writeReport } from '../bench/lib/report.ts';
import { dbFromWeb } from '../edge-agent/testing/index.ts';
import { buildSea } from '../edge-agent/index.ts';
import { buildImage } from './build-image.ts';
import { partitionOffset } from './disk.ts';
import { sh } from './exec.ts';
import { provisionImage, readProvision } from './provision-image.ts';
import { bootImage, OVMF, type Vm } from './qemu.ts';
import { startGuestHub, type GuestHub } from './testing/guest-hub.ts';

const MIN = 60_000;
/** One boot to a state, generous: TCG under load has been seen at 3.5 min to a login prompt. */
const BOOT_MS = 12 * MIN;

const missing = ['qemu-system-x86_64', 'qemu-img', 'debootstrap', 'mkfs.vfat', 'mcopy', 'sfdisk', 'socat'].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
);
const why =
  process.getuid?.() !== 0
    ? 'needs root (debootstrap, image file ownership)'
    : !existsSync(OVMF)
      ? `${OVMF} missing (apt-get install ovmf)`
      : missing.length
        ? `missing ${missing.join(', ')} (npm run setup installs them)`
        : null;
if (why) console.warn(`image.test: skipping the appliance boot: ${why}`);

const STATIC_ADDRESS = '10.0.2.20/24';
const ROOT_HASH = sh('openssl', ['passwd', '-6', '-salt', 'weftimagetest', 'weft']).trim();

/** The store's database reachable only from its web tier: the policy central ops roll out. */
const POLICY = stringify(dbFromWeb);

let dir: string;
let hub: GuestHub;
let diskA: string;
let diskB: string;
const vms: Vm[] = [];
const times: Record<string, number> = {};
let generation = 0;
const load = { before: loadavg(), after: [] as number[] };

function boot(image: string, name: string): Vm {
  const vm = bootImage({ image, forwards: hub.forwards, serialLog: join(dir, `${name}.serial.log`) });
  vms.push(vm);
  return vm;
}
const seconds = (vm: Vm, at: number) => Math.round((at - vm.startedAt) / 100) / 10;
/**
 * The agent's own console lines (`weft: <state>`), not the journal's copies of its log. Not anchored
 * at the line start: agetty's login prompt may be on the console row when the agent writes.
 */
const stateLines = (vm: Vm, from = 0) =>
  [
    ...vm
      .serial()
      .slice(from)
      .matchAll(/weft: (.*)\n/g),
  ].map((m) => m[1].trim());

beforeAll(async () => {
  if (why) return;
  dir = mkdtempSync(join(tmpdir(), 'wimg-boot-'));
  const agent = await buildSea({ log: () => undefined });
  const img = buildImage({
    agent: agent.binary,
    out: join(dir, 'out'),
    hostname: 'weft-test',
    // `openssl passwd -6 -salt weftimagetest weft`: the technician's console login below.
    rootPasswordHash: ROOT_HASH,
    // WireGuard is UDP and guestfwd is TCP only: the agent reaches the broker directly (guest-hub.ts).
    agentSettings: { tunnel: 'off' },
    // The agent's log on the serial console too, so a failure here shows why.
    kernelArgs: ['systemd.journald.forward_to_console=1'],
    log: () => undefined,
  });
  // What a technician checks after downloading the image.
  expect(sh('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dirname(img.raw) })).toBe('appliance.img: OK\nappliance.qcow2: OK\n');
  hub = await startGuestHub();
  diskA = join(dir, 'a.img');
  diskB = join(dir, 'b.img');
  for (const [disk, file, content] of [
    // A also carries a static address (not the one slirp's DHCP hands out): weft-network.service must apply it.
    [diskA, join(dir, 'a.json'), { ...(await hub.provision('store-042')), network: { address: STATIC_ADDRESS, gateway: '10.0.2.2' } }],
    [diskB, join(dir, 'b.json'), await hub.provisionExpired('store-043')],
  ] as const) {
    sh('cp', ['--sparse=always', '--reflink=auto', img.raw, disk]);
    writeFileSync(file, JSON.stringify(content, null, 2));
    provisionImage(disk, file);
  }
}, 30 * MIN);

afterAll(async () => {
  for (const vm of vms) await vm.stop();
  await hub?.t.close();
  if (dir && !why) {
    load.after = loadavg();
    if (times.firstBootToEnforcingS) recordBench();
    if (process.env.WEFT_KEEP_IMAGE_TEST) console.warn(`image.test: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
});

describe.skipIf(why !== null)('appliance image under qemu (TCG), hub on loopback', () => {
  it(
    'first boot enrolls by itself and enforces the hub generation; an expired token shows its fix, retries, leaves no ghost site',
    async () => {
      const a = boot(diskA, 'a1');
      const b = boot(diskB, 'b');

      // A: the agent runs before any network, enrolls, and only the hub's bundle makes it enforce.
      const started = await a.waitFor(/weft: starting\n/, BOOT_MS);
      times.firstBootToAgentS = seconds(a, started.at);
      const enrolled = await a.waitFor(/weft: enrolled as site store-042\n/, BOOT_MS, started.end);
      times.firstBootToEnrolledS = seconds(a, enrolled.at);
      const site = await hub.t.hub.store.sites.get('store-042');
      expect(site).toMatchObject({ state: 'enrolled' });
      expect(hub.t.peers.peers.has('store-042')).toBe(true);

      const v = await hub.t.api('POST', '/v1/policies', { files: [{ name: 'db.yaml', content: POLICY }], message: 'store policy' });
      expect(v.status).toBe(201);
      const r = await hub.t.api('POST', '/v1/rollouts', { version: v.body.version });
      expect(r.status).toBe(201);
      generation = r.body.stages[0].sites.find((s: { siteId: string }) => s.siteId === 'store-042').generation;
      expect(generation).toBeGreaterThan(0);
      const enforcing = await a.waitFor(new RegExp(`weft: enforcing generation ${generation}\n`), BOOT_MS, enrolled.end);
      times.firstBootToEnforcingS = seconds(a, enforcing.at);
      // In order: started, enrolled, and enforcing only once the hub's generation came.
      const lines = stateLines(a);
      expect(lines[0]).toBe('starting');
      // The agent does not wait for DHCP to enforce; until the uplink is up the console says
      // `waiting for network`, never an enrollment error about a missing route.
      const attempts = lines.filter((l) => l.startsWith('enrolling'));
      times.firstBootEnrollAttempts = attempts.length;
      expect(lines.slice(0, lines.indexOf('enrolled as site store-042')).every((l) => /^(starting|waiting for network|enrolling \(attempt \d+)/.test(l))).toBe(
        true,
      );
      expect(lines.some((l) => /E(NET|HOST)UNREACH/.test(l))).toBe(false);
      if (attempts.length > 0) expect(attempts[0]).toBe('enrolling (attempt 1)');
      for (const l of attempts.slice(1)) expect(l).toMatch(/^enrolling \(attempt \d+, hub unreachable: /);
      expect(lines.indexOf('enrolled as site store-042')).toBeLessThan(lines.indexOf(`enforcing generation ${generation}`));
      expect(lines.some((l) => /^enforcing generation 0|failed|not enforcing/.test(l))).toBe(false);
      // The hub saw the ack: the rollout is complete.
      await expect
        .poll(async () => (await hub.t.api('GET', `/v1/rollouts/${r.body.rollout.id}`)).body.rollout.state, { timeout: 2 * MIN, interval: 500 })
        .toBe('completed');

      // B: the hub refused the token; the console says why and what to do, then the agent tries again.
      // (Attempts before DHCP completes fail as unreachable; the hub's refusal comes with the first that reaches it.)
      const refused = (n: string) =>
        new RegExp(
          `weft: enrolling \\(attempt (${n}), hub answered HTTP \\d+: the enrollment token expired[^\\n]*; fix: the token expired: get a fresh provisioning file \\(weft site token --provision-file\\)\\)\n`,
        );
      const first = await b.waitFor(refused('\\d+'), BOOT_MS);
      await b.waitFor(refused(String(Number(first.match[1]) + 1)), BOOT_MS, first.end);
      const ghost = await hub.t.hub.store.sites.get('store-043');
      expect(ghost).toMatchObject({ state: 'pending', identityKey: null, wireguardKey: null, overlayIndex: null, enrolledAt: null });
      expect(await hub.t.hub.store.sites.credentialHash('store-043')).toBeUndefined();
      expect(hub.t.peers.peers.has('store-043')).toBe(false);
      expect((await hub.t.hub.store.sites.list()).map((s) => s.id).sort()).toEqual(['store-042', 'store-043']);
      await b.stop();
      // B's token is still on its boot partition: with a fresh token nothing else needs redoing.
      expect(JSON.parse(readProvision(diskB)!)).toMatchObject({ siteName: 'store-043', token: expect.any(String) });
    },
    30 * MIN,
  );

  it(
    'after a power cut it boots back to enforcing from its own store: no token on disk, no enrollment',
    async () => {
      expect(generation).toBeGreaterThan(0);
      await vms[0].stop(); // the plug, not a shutdown
      const text = readProvision(diskA);
      expect(text, `weft-provision.json is gone from WEFT-BOOT after the power cut; the partition holds:\n${bootListing(diskA)}`).not.toBeNull();
      const left = JSON.parse(text!) as Record<string, unknown>;
      expect(left).not.toHaveProperty('token');
      expect(left).toMatchObject({ siteName: 'store-042', hubUrl: 'https://10.0.2.100:8443' });

      let reconnected = false;
      hub.t.hub.broker.sessions.on('up', (id: string) => {
        if (id === 'store-042') reconnected = true;
      });
      const a = boot(diskA, 'a2');
      const enforcing = await a.waitFor(new RegExp(`weft: enforcing generation ${generation}`), BOOT_MS);
      times.rebootToEnforcingS = seconds(a, enforcing.at);
      expect(stateLines(a)[0]).toBe('starting');
      // And it is back on the hub's broker as the same site, with the credentials from its store.
      await expect.poll(() => reconnected, { timeout: 5 * MIN, interval: 1000 }).toBe(true);
      expect(stateLines(a).some((l) => l.startsWith('enrolling'))).toBe(false);

      // The technician logs in on the console and asks the agent.
      const prompt = await a.waitFor(/weft-test login: /, BOOT_MS);
      a.type('root\n');
      const pw = await a.waitFor(/Password: /, 2 * MIN, prompt.end);
      a.type('weft\n');
      const shell = await a.waitFor(/root@weft-test:[^\n]*# /, 2 * MIN, pw.end);
      a.type('weft-agent status; echo "status-exit=$?"; ip -4 -o addr show scope global\n');
      const done = await a.waitFor(/status-exit=(\d+)\n/, 3 * MIN, shell.end);
      const out = a.serial().slice(shell.end, done.end);
      expect(out).toMatch(new RegExp(`state: +enforcing generation ${generation}`));
      expect(out).toMatch(/site: +store-042 \(enrolled\)/);
      expect(out).toMatch(/hub link: +connected/);
      expect(out).toMatch(/datapath: +libbpf/);
      expect(done.match[1]).toBe('0');
      const addr = await a.waitFor(/inet (\S+) /, MIN, done.end);
      expect(addr.match[1]).toBe(STATIC_ADDRESS);
    },
    20 * MIN,
  );
});

function bootListing(disk: string): string {
  return sh('mdir', ['-a', '-i', `${disk}@@${partitionOffset(disk, 'weft-esp')}`, '::/']);
}

function recordBench(): void {
  writeReport({
    name: 'image',
    title: 'Appliance image: power-on to enforcing (qemu, TCG)',
    method:
      "images/image.kernel.test.ts (CI): the image from `npm run build:image` with the single-binary agent, booted under qemu-system-x86_64 with TCG (no KVM on this machine), UEFI (OVMF), 1 GiB, 2 vCPUs, user networking restricted to a hub on the host loopback. Times from starting qemu to the agent's line on the serial console; first boot includes enrollment over HTTPS and the hub's rollout of generation 1, started by the test as soon as the serial console showed `enrolled`. One run, under the bench lock; a second VM (the expired-token case) boots at the same time as the first boot, the power-cut reboot runs alone. The first boot also applies a static address from the provisioning file. TCG is far slower than hardware: these are upper bounds for a real appliance.",
    markdown: [
      '| phase | seconds from power-on |',
      '| --- | --- |',
      `| first boot: agent started | ${times.firstBootToAgentS ?? '–'} |`,
      `| first boot: enrolled | ${times.firstBootToEnrolledS ?? '–'} |`,
      `| first boot: enforcing the hub's generation | ${times.firstBootToEnforcingS ?? '–'} |`,
      `| after a power cut: enforcing again (no network needed) | ${times.rebootToEnforcingS ?? '–'} |`,
      '',
      `Load average (1/5/15 min) before ${load.before.map((x) => x.toFixed(1)).join('/')}, after ${load.after.map((x) => x.toFixed(1)).join('/')}.`,
    ].join('\n'),
    results: { accel: process.env.WEFT_QEMU_ACCEL ?? 'tcg', runs: 1, ...times, loadAverage: load },
  });
}
