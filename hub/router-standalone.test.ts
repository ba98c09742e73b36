// Every router gives the same answer for the same question: a real hub with its in-process router,
// and a `weft-router` process beside it fed from the same broker (health) and the hub's own site list
// (a file, as `weft sites list --json` writes it). Site health flips through degraded, offline (the
// last will) and back online, and a drain reaches the standalone router by its file and SIGHUP; after
// each change both routers are asked the same questions with `dig` and must answer alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, hasDig } from '../router/testing/index.ts';
import { startTestHub, type TestHub } from './testing/hub-fixture.ts';
import { deviceKeys, enrollRequest, eventually, SimAgent } from './testing/sim-agent.ts';
import type { EnrollResponse } from '../protocol/index.ts';

const ZONE = 'svc.test';
// Clients are placed by the CIDR map (the EDNS client subnet dig sends): one in Europe, one in America.
const SETTINGS = {
  zone: ZONE,
  answerSites: 2,
  nameservers: [
    { name: `ns1.${ZONE}`, addresses: ['192.0.2.53'] },
    { name: `ns2.${ZONE}`, addresses: ['192.0.2.54'] },
  ],
  regions: { eu: { lat: 52, lon: 12 }, us: { lat: 40, lon: -75 } },
  cidrMap: [
    { cidr: '198.51.100.0/24', region: 'eu' },
    { cidr: '203.0.113.0/24', region: 'us' },
  ],
  defaultLocation: { lat: 52, lon: 12 },
};
const SITES = [
  { name: 'berlin', lat: 52.5, lon: 13.4, address: '10.0.0.1' },
  { name: 'paris', lat: 48.9, lon: 2.3, address: '10.0.0.2' },
  { name: 'newyork', lat: 40.7, lon: -74, address: '10.0.0.3' },
];
const QUESTIONS: string[][] = [
  ['pos.svc.test', 'A', '+subnet=198.51.100.0/24'],
  ['pos.svc.test', 'A', '+subnet=203.0.113.0/24'],
  ['pos.svc.test', 'A'],
  ['svc.test', 'NS'],
  ['svc.test', 'SOA'],
];

// The scenario moves health by the heartbeats it sends and by last wills, never by silence: on a slow
// machine the default 15 s of missed heartbeats would take sites offline in one router before the other.
const HEARTBEAT_S = 300;
const run = hasDig('the standalone router agreement test');
let t: TestHub;
let proc: ChildProcess;
let standalonePort = 0;
let standaloneHttp = '';
const enrolled = new Map<string, EnrollResponse>();
const agents = new Map<string, SimAgent>();
const sitesFile = () => join(t.dir, 'router-sites.json');

async function writeSites(): Promise<void> {
  writeFileSync(sitesFile(), JSON.stringify((await t.api('GET', '/v1/sites')).body));
}

async function connect(name: string): Promise<SimAgent> {
  const a = await SimAgent.connect(t.hub.broker.url(), enrolled.get(name) as EnrollResponse);
  agents.set(name, a);
  return a;
}

/** Each question's answer as `status addresses...` from the hub's router and from the standalone one. */
async function answers(port: number): Promise<string[]> {
  return Promise.all(
    QUESTIONS.map(async (q) => {
      const r = await dig('127.0.0.1', port, ...q);
      return `${r.status} ${r.answer.map((a) => a.data).join(',')}`;
    }),
  );
}

/**
 * Waits until the hub answers `want` to the first question, then until both routers give the same
 * answers to every question (asked afresh each time: one change can still be landing in the hub
 * between the hub's first and last answer).
 */
async function agreeOn(want: string): Promise<string[]> {
  const hubPort = t.hub.router?.dns.port as number;
  let hub: string[] = [];
  await eventually(async () => (hub = await answers(hubPort))[0] === want, `hub router answers ${want}`).catch(() => expect(hub[0]).toBe(want));
  let standalone: string[] = [];
  const same = async () => {
    [hub, standalone] = await Promise.all([answers(hubPort), answers(standalonePort)]);
    return JSON.stringify(standalone) === JSON.stringify(hub);
  };
  await eventually(same, 'standalone router agrees', 5000).catch(() => expect(standalone).toEqual(hub));
  // And they keep agreeing: asked again, both give the same answers; HTTP /v1/route says the same too.
  expect(await answers(standalonePort)).toEqual(await answers(hubPort));
  for (const ip of ['198.51.100.7', '203.0.113.7']) {
    const url = `/v1/route?service=pos&ip=${ip}`;
    const viaHub = (await t.api('GET', url)).body.chosen.map((c: { siteId: string }) => c.siteId);
    const viaStandalone = ((await (await fetch(`${standaloneHttp}${url}`)).json()) as { chosen: { siteId: string }[] }).chosen.map((c) => c.siteId);
    expect(viaStandalone).toEqual(viaHub);
  }
  return standalone;
}

beforeAll(async () => {
  if (!run) return;
  t = await startTestHub((c) => {
    c.router = { ...SETTINGS, dns: { host: '127.0.0.1', port: 0 } };
    c.heartbeatIntervalS = HEARTBEAT_S;
  });
  for (const s of SITES) {
    await t.api('POST', '/v1/sites', {
      name: s.name,
      lat: s.lat,
      lon: s.lon,
      services: [{ name: 'pos', addresses: [s.address], url: `https://${s.name}.example.com` }],
    });
    const tok = (await t.api('POST', `/v1/sites/${s.name}/token`, {})).body.token;
    enrolled.set(s.name, (await t.api('POST', '/v1/enroll', enrollRequest(s.name, deviceKeys(), tok), null)).body);
    const a = await connect(s.name);
    await a.heartbeat();
    await a.heartbeat();
  }
  await eventually(() => t.hub.sitesView.list().every((s) => s.health === 'online'), 'every site online in the hub');
  await writeSites();
  writeFileSync(join(t.dir, 'router.yaml'), JSON.stringify(SETTINGS));
  writeFileSync(join(t.dir, 'broker-password'), `${t.hub.broker.hubCredentials.password}\n`);
  const root = resolve(import.meta.dirname, '..');
  proc = spawn(
    process.execPath,
    [
      'bin/weft-router.mjs',
      ...['--config', join(t.dir, 'router.yaml'), '--sites', sitesFile(), '--broker', t.hub.broker.url()],
      ...['--broker-password-file', join(t.dir, 'broker-password'), '--dns-port', '0', '--http-port', '0', '--log-level', 'warn'],
      ...['--heartbeat-interval-s', String(HEARTBEAT_S)],
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  await eventually(() => /DNS 127\.0\.0\.1:(\d+)/.test(out), 'weft-router to start', 30_000);
  standalonePort = Number(/DNS 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  standaloneHttp = /HTTP (http:\/\/\S+?),/.exec(out)?.[1] as string;
}, 90_000);

afterAll(async () => {
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
  for (const a of agents.values()) await a.close().catch(() => undefined);
  await t?.close();
});

describe.runIf(run)('the standalone router and the hub router agree', () => {
  it('while site health changes, both routers give the same answers to the same questions', async () => {
    // All healthy: Europe gets Berlin then Paris; America gets New York then Paris.
    expect(await agreeOn('NOERROR 10.0.0.1,10.0.0.2')).toEqual([
      'NOERROR 10.0.0.1,10.0.0.2',
      'NOERROR 10.0.0.3,10.0.0.2',
      'NOERROR 10.0.0.1,10.0.0.2',
      'NOERROR ns1.svc.test.,ns2.svc.test.',
      expect.stringMatching(/^NOERROR ns1\.svc\.test\. hostmaster\.svc\.test\. \d+ /),
    ]);

    // Berlin's node stops being ready: degraded at once, out of the answers.
    await agents.get('berlin')?.heartbeat({ nodeReady: false });
    expect((await agreeOn('NOERROR 10.0.0.2,10.0.0.3'))[1]).toBe('NOERROR 10.0.0.3,10.0.0.2');

    // Paris drops off the broker: its last will takes it offline in both. New York is the one healthy
    // site left; degraded Berlin still fills the second place.
    await agents.get('paris')?.client.endAsync(true);
    expect((await agreeOn('NOERROR 10.0.0.3,10.0.0.1'))[1]).toBe('NOERROR 10.0.0.3,10.0.0.1');

    // Berlin recovers (two good heartbeats), Paris comes back and reports twice.
    await agents.get('berlin')?.heartbeat();
    await agents.get('berlin')?.heartbeat();
    await agreeOn('NOERROR 10.0.0.1,10.0.0.3');
    const paris = await connect('paris');
    await paris.heartbeat();
    await paris.heartbeat();
    await agreeOn('NOERROR 10.0.0.1,10.0.0.2');

    // Ops drain Berlin: the hub knows at once; the standalone router when its site file is re-read.
    await t.api('POST', '/v1/sites/berlin/drain');
    await eventually(() => t.hub.sitesView.get('berlin')?.health === 'draining', 'berlin draining in the hub');
    await writeSites();
    proc.kill('SIGHUP');
    expect(await agreeOn('NOERROR 10.0.0.2,10.0.0.3')).toEqual([
      'NOERROR 10.0.0.2,10.0.0.3',
      'NOERROR 10.0.0.3,10.0.0.2',
      'NOERROR 10.0.0.2,10.0.0.3',
      'NOERROR ns1.svc.test.,ns2.svc.test.',
      expect.stringMatching(/^NOERROR ns1\.svc\.test\. hostmaster\.svc\.test\. \d+ /),
    ]);
  }, 120_000);
});
