// DNS on every core: several worker processes read the same UDP socket and TCP listener. Each is
// fed the same ordered SitesView events, so after any run of health changes every worker gives the
// same answer; a worker killed leaves the others serving the port.
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../base/index.ts';
import { startRouter, type Router } from './index.ts';
import { dig, hasDig } from './testing/dig.ts';
import { MemorySitesView, site } from './testing/memory-sites-view.ts';
import { answerAddresses, encodeQuery } from './testing/query.ts';

const ZONE = 'svc.example.com';
let view: MemorySitesView;
let router: Router;

/** The pids of this process's DNS worker processes. */
function workerPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('dns-worker.mjs');
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** `n` queries from `n` sockets at once (so the kernel hands them to whichever worker is free); the answers. */
async function burst(n: number): Promise<string[]> {
  return Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<string>((resolve) => {
          const s = createSocket('udp4');
          const timer = setTimeout(() => {
            s.close();
            resolve('timeout');
          }, 2000);
          s.on('message', (m) => {
            clearTimeout(timer);
            s.close();
            resolve(answerAddresses(m).join(','));
          });
          s.send(encodeQuery(i, `pos.${ZONE}`, 'A'), router.dns.port, '127.0.0.1');
        }),
    ),
  );
}

/** The feed is one message hop: waits until a whole burst says `want` (then it must stay so). */
async function settled(want: string): Promise<void> {
  await waitFor(async () => (await burst(20)).every((a) => a === want), { what: `every worker answers ${want}`, timeoutMs: 5000, intervalMs: 20 });
}

beforeAll(async () => {
  view = new MemorySitesView([
    site('near', 52.5, 13.4, { services: [{ name: 'pos', addresses: ['192.0.2.1'] }] }),
    site('far', 40.7, -74, { services: [{ name: 'pos', addresses: ['192.0.2.2'] }] }),
  ]);
  router = await startRouter({
    sites: view,
    zone: ZONE,
    dns: { host: '127.0.0.1', port: 0, workers: 2 },
    defaultLocation: { lat: 52.5, lon: 13.4 },
    logger: pino({ level: 'silent' }),
  });
}, 60_000);

afterAll(async () => {
  await router?.close();
  expect(workerPids()).toEqual([]);
});

describe('DNS worker processes', () => {
  it('runs the asked number of processes on one port, UDP and TCP', async () => {
    expect(router.dnsWorkers).toBe(2);
    expect(workerPids()).toHaveLength(2);
    expect(await burst(50)).toEqual(Array(50).fill('192.0.2.1'));
    if (hasDig('the DNS workers TCP check')) expect((await dig('127.0.0.1', router.dns.port, '+tcp', `pos.${ZONE}`, 'A')).answer[0]?.data).toBe('192.0.2.1');
  });

  it('after a run of health changes, every worker answers from the same state', async () => {
    // 21 flips in one go: workers that got them in another order, or missed one, would disagree.
    for (let i = 0; i < 21; i++) view.setHealth('near', i % 2 === 0 ? 'offline' : 'online');
    await settled('192.0.2.2');
    for (let round = 0; round < 3; round++) expect(await burst(60)).toEqual(Array(60).fill('192.0.2.2'));
    view.setHealth('near', 'online');
    await settled('192.0.2.1');
    for (let round = 0; round < 3; round++) expect(await burst(60)).toEqual(Array(60).fill('192.0.2.1'));
  });

  it('keeps answering on the port when one worker process dies', async () => {
    const [victim] = workerPids();
    process.kill(victim, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    expect(workerPids()).toHaveLength(1);
    expect(await burst(30)).toEqual(Array(30).fill('192.0.2.1'));
  });
});
