// A throwaway PostgreSQL cluster for tests: initdb and pg_ctl (Debian's postgresql, 15) as the
// `postgres` user, under a temp dir, listening on a free TCP port of 127.0.0.1 and a unix socket in that
// dir; stopped and removed by remove(). Never the system cluster. Needs root (to run as postgres).
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  port: number;
  /** A URL for database `db` (created by createDatabase, or `postgres`). */
  url(db?: string): string;
  /** The same database through the unix socket, for the test process when the server runs in a namespace. */
  local(db?: string): string;
  createDatabase(name: string): Promise<string>;
  /** pg_ctl stop -m fast / start: the outage tests. */
  stop(): void;
  start(): void;
  remove(): void;
}

/** The newest installed server's bin dir (/usr/lib/postgresql/<major>/bin). */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .map(Number)
    .filter((v) => Number.isInteger(v))
    .sort((a, b) => b - a);
  return majors.length ? join(root, String(majors[0]), 'bin') : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface StartPostgresOptions {
  /** Run the server in this network namespace (field tests), listening on `host` there. */
  netns?: string;
  /** Listen address (default 127.0.0.1). */
  host?: string;
}

export async function startPostgres(o: StartPostgresOptions = {}): Promise<TestPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed: node scripts/setup.mjs installs Debian postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'weft-pg-'));
  const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
  const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
  chownSync(dir, Number(ids), Number(gid));
  const data = join(dir, 'data');
  const inNs = o.netns ? ['ip', 'netns', 'exec', o.netns] : [];
  const asPostgres = (cmd: string, args: string[]) => {
    const argv = [...inNs, 'runuser', '-u', 'postgres', '--', join(bin, cmd), ...args];
    return execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  };
  asPostgres('initdb', ['-D', data, '--auth=trust', '--no-locale', '-E', 'UTF8', '-U', 'postgres']);
  // In a namespace the test made, hubs on the other members connect over its network: trust them too.
  if (o.netns) appendFileSync(join(data, 'pg_hba.conf'), 'host all all 0.0.0.0/0 trust\n');
  // A namespace of its own has every port free.
  const port = o.netns ? 5432 : await freePort();
  const host = o.host ?? '127.0.0.1';
  const opts = `-p ${port} -k ${dir} -c listen_addresses=${host} -c fsync=off -c full_page_writes=off`;
  const start = () => {
    asPostgres('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
  };
  const stop = () => {
    asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  start();
  const url = (db = 'postgres') => `postgres://postgres@${host}:${port}/${db}`;
  // The unix socket is not namespaced: the test process reaches a server in a namespace through it.
  const local = (db = 'postgres') => (o.netns ? `postgres://postgres@/${db}?host=${dir}&port=${port}` : url(db));
  let stopped = false;
  return {
    port,
    url,
    local,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: local() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    stop,
    start,
    remove() {
      if (!stopped) {
        stopped = true;
        try {
          stop();
        } catch {
          // already stopped
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
