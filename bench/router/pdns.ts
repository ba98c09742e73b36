// PowerDNS Authoritative with LUA records, the peer a user would pick: bind backend for the zone,
// geoip backend (reading the same MaxMind-format database) for pickclosest, ifportup health checks.
// Runs pdns_server in the foreground as a child with its own config dir. Two ways to run LUA records:
// 'yes' (the default a user gets: a fresh Lua state per query) and 'shared' (one Lua state per
// thread, the documented speed-up), so the comparison is not with a strawman.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PdnsSite {
  address: string;
}

export interface Pdns {
  port: number;
  pid: number;
  /** lua-health-checks-interval in seconds (PowerDNS default 5). */
  checkIntervalS: number;
  stop(): Promise<void>;
}

export type LuaRecordsMode = 'yes' | 'shared';

/** The installed pdns_server version, e.g. '4.7.3'. */
export function pdnsVersion(): string {
  // It prints the banner on stderr and exits 99.
  const r = spawnSync('pdns_server', ['--version'], { encoding: 'utf8' });
  return /Authoritative Server (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

export async function startPdns(o: {
  dir: string;
  port: number;
  zone: string;
  service: string;
  geoDb: string;
  sites: PdnsSite[];
  servicePort: number;
  ttl: number;
  luaRecords: LuaRecordsMode;
}): Promise<Pdns> {
  const dir = join(o.dir, `pdns-${o.luaRecords}`);
  mkdirSync(dir, { recursive: true });
  const addrs = o.sites.map((s) => `'${s.address}'`).join(',');
  writeFileSync(
    join(dir, 'zone'),
    [
      `$ORIGIN ${o.zone}.`,
      `@ ${o.ttl} IN SOA ns1 hostmaster 1 3600 600 604800 ${o.ttl}`,
      `@ ${o.ttl} IN NS ns1`,
      `ns1 ${o.ttl} IN A 127.0.0.1`,
      `${o.service} ${o.ttl} IN LUA A "ifportup(${o.servicePort}, {${addrs}}, {selector='pickclosest'})"`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'named.conf'), `zone "${o.zone}" { type master; file "${join(dir, 'zone')}"; };\n`);
  writeFileSync(join(dir, 'geo.yaml'), 'domains: []\n');
  // PowerDNS defaults otherwise (packet cache, threads, health-check interval): what a user gets.
  writeFileSync(
    join(dir, 'pdns.conf'),
    [
      'launch=bind,geoip',
      `bind-config=${join(dir, 'named.conf')}`,
      `geoip-database-files=mmdb:${o.geoDb}`,
      `geoip-zones-file=${join(dir, 'geo.yaml')}`,
      `enable-lua-records=${o.luaRecords}`,
      'edns-subnet-processing=yes',
      'local-address=127.0.0.1',
      `local-port=${o.port}`,
      `socket-dir=${dir}`,
      'daemon=no',
      'guardian=no',
      'disable-syslog=yes',
      // Level 4 (info) prints the readiness line waited for below; nothing is logged per query.
      'loglevel=4',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('pdns_server', [`--config-dir=${dir}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = await Promise.race([
    new Promise<boolean>((r) => {
      const check = () => (log.includes('ready to distribute questions') ? r(true) : setTimeout(check, 50));
      check();
    }),
    exited.then(() => false),
  ]);
  if (!ready) throw new Error(`pdns_server did not start:\n${log}`);
  return {
    port: o.port,
    pid: child.pid as number,
    checkIntervalS: 5,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
