// Knot DNS (Debian's knot) serving one static A record for the benchmark's name: the ceiling a DNS
// router can be held against on this machine, since it does no locating, no ranking and no health.
// Runs knotd in the foreground as a child with its own config, zone and run dirs; its defaults
// otherwise (one UDP worker per core, SO_REUSEPORT), what a user gets.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Knot {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** The installed knotd version, e.g. '3.2.6'. */
export function knotVersion(): string {
  const r = spawnSync('knotd', ['--version'], { encoding: 'utf8' });
  return /(\d+\.\d+\.\d+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

export async function startKnot(o: { dir: string; port: number; zone: string; name: string; address: string; ttl: number }): Promise<Knot> {
  const dir = join(o.dir, 'knot');
  mkdirSync(join(dir, 'db'), { recursive: true });
  writeFileSync(
    join(dir, 'zone'),
    [
      `$ORIGIN ${o.zone}.`,
      `@ ${o.ttl} IN SOA ns1 hostmaster 1 3600 600 604800 ${o.ttl}`,
      `@ ${o.ttl} IN NS ns1`,
      `ns1 ${o.ttl} IN A 127.0.0.1`,
      `${o.name}. ${o.ttl} IN A ${o.address}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'knot.conf'),
    [
      'server:',
      `    listen: 127.0.0.1@${o.port}`,
      `    rundir: ${dir}`,
      'database:',
      `    storage: ${join(dir, 'db')}`,
      'log:',
      '  - target: stderr',
      '    any: info',
      'zone:',
      `  - domain: ${o.zone}`,
      `    file: ${join(dir, 'zone')}`,
      '    zonefile-sync: -1',
      '    journal-content: none',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('knotd', ['-c', join(dir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = await Promise.race([
    new Promise<boolean>((r) => {
      const check = () => (/loaded, serial|server started/.test(log) && log.includes(o.zone) ? r(true) : setTimeout(check, 50));
      check();
    }),
    exited.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(false), 15_000)),
  ]);
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`knotd did not start:\n${log}`);
  }
  return {
    port: o.port,
    pid: child.pid as number,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
