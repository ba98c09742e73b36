// The external broker option: a Mosquitto process supervised by the hub. The hub writes its
// password and ACL files from the store (sync()) and signals SIGHUP; on reload Mosquitto also
// drops connected clients whose credentials are gone, which is how kick() and revocation work.
// Mosquitto's own persistence keeps retained bundles and statuses across a hub restart, so the
// health model warm-starts from them.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, chownSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { delimiter, join } from 'node:path';
import { pino, type Logger } from 'pino';
import { writeSecret } from '../pki/files.ts';
import { brokerUrl, HubClients } from './hub-client.ts';
import { HUB_ACL, renderAclFile, renderConfig, renderHubPasswordFile, renderPasswordFile } from './mosquitto-files.ts';
import { hashPassword, randomSecret } from './password.ts';
import { BrokerError, HUB_USERNAME, type Broker, type MosquittoStartOptions } from './types.ts';

export function findMosquitto(explicit?: string): string | null {
  const candidates = explicit ? [explicit] : [...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'mosquitto')), '/usr/sbin/mosquitto'];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next candidate
    }
  }
  return null;
}

/** A port free right now on loopback (Mosquitto cannot bind port 0 and report it back). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Started as root, Mosquitto drops to the `mosquitto` user: its files must be that user's. */
function mosquittoOwner(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('mosquitto:'));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

class Supervisor {
  private child: ChildProcess | null = null;
  private stopping = false;
  private readonly tail: string[] = [];
  readonly lines = new EventEmitter();

  constructor(
    private readonly binary: string,
    private readonly conf: string,
    private readonly log: Logger,
    private readonly onRestart: () => void,
  ) {}

  async start(readyPort: number): Promise<void> {
    const child = spawn(this.binary, ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        this.tail.push(line);
        if (this.tail.length > 20) this.tail.shift();
        this.lines.emit('line', line);
        this.log.info({ mosquitto: line }, 'mosquitto');
      }
    });
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.log.error({ code, signal }, 'mosquitto exited; restarting in 1 s');
      setTimeout(() => {
        if (this.stopping) return;
        this.start(readyPort).then(this.onRestart, (err: Error) => this.log.error({ err: err.message }, 'mosquitto restart failed'));
      }, 1000).unref();
    });
    const until = Date.now() + 10_000;
    while (!(await portOpen(readyPort))) {
      if (child.exitCode !== null || Date.now() > until) {
        child.kill('SIGKILL');
        throw new BrokerError(
          'BROKER_MOSQUITTO_START',
          `mosquitto did not start: ${this.tail.join(' | ') || 'no output'}`,
          'as root, Mosquitto runs as the mosquitto user: every parent of the broker directory must be traversable by it',
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** SIGHUP, resolved once Mosquitto logs that it reloaded (or after 2 s). */
  reload(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.lines.off('line', onLine);
        resolve();
      };
      const onLine = (l: string) => l.includes('Reloading config') && setImmediate(done);
      const timer = setTimeout(done, 2000);
      this.lines.on('line', onLine);
      this.child?.kill('SIGHUP');
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export interface MosquittoBroker extends Broker {
  /** The running mosquitto process (for memory figures and crash tests). */
  pid(): number | null;
}

export async function startMosquitto(opts: MosquittoStartOptions): Promise<MosquittoBroker> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const binary = findMosquitto(opts.binary);
  if (!binary)
    throw new BrokerError('BROKER_MOSQUITTO_MISSING', 'mosquitto binary not found', 'install the Debian package mosquitto, or use the embedded broker');
  const hosts = opts.hosts?.length ? opts.hosts : ['127.0.0.1'];
  const port = opts.port || (await freePort());
  const hubPort = await freePort();
  const hubPassword = randomSecret();
  const kicked = new Set<string>();
  const owner = mosquittoOwner();
  const dir = opts.dir;

  mkdirSync(join(dir, 'data'), { recursive: true, mode: 0o700 });
  const own = (path: string) => {
    if (owner) chownSync(path, owner.uid, owner.gid);
  };
  own(dir);
  own(join(dir, 'data'));
  const write = (name: string, text: string | Buffer) => {
    writeSecret(join(dir, name), text);
    own(join(dir, name));
  };

  const sync = async (reload: boolean) => {
    const creds = [];
    for (const c of await opts.credentials()) {
      if (!kicked.has(c.siteId) && !(await opts.auth.isRevoked(c.siteId))) creds.push(c);
    }
    write('passwd', renderPasswordFile(creds));
    write('acl', renderAclFile(creds));
    if (reload) await supervisor.reload();
    log.info({ sites: creds.length }, 'mosquitto: password and ACL files written');
  };

  let tls: { keyFile: string; certFile: string } | undefined;
  if (opts.tls) {
    tls = { keyFile: join(dir, 'broker.key'), certFile: join(dir, 'broker.crt') };
    write('broker.key', opts.tls.key);
    write('broker.crt', opts.tls.cert);
  }
  write('hub-passwd', renderHubPasswordFile(hashPassword(hubPassword)));
  write('hub-acl', HUB_ACL);
  const conf = join(dir, 'mosquitto.conf');
  write('mosquitto.conf', renderConfig({ dir, hosts, port, hubPort, tls, maxPacketBytes: opts.limits?.maxPacketBytes }));
  const events = new EventEmitter();
  const supervisor = new Supervisor(binary, conf, log, () => events.emit('restarted'));
  await sync(false);
  await supervisor.start(hubPort);
  const hubClients = new HubClients(() => ({ host: '127.0.0.1', port: hubPort, password: hubPassword }));
  log.info({ hosts, port, hubPort, tls: Boolean(tls) }, 'broker: mosquitto listening');

  return {
    kind: 'mosquitto',
    port,
    hosts,
    url: (host = hosts[0]) => brokerUrl(host, port, Boolean(tls)),
    hubCredentials: { username: HUB_USERNAME, password: hubPassword },
    hubClient: () => hubClients.connect(),
    async kick(siteId) {
      kicked.add(siteId);
      await sync(true);
    },
    sync: () => sync(true),
    // Mosquitto does not tell the hub about sessions; health relies on last wills and heartbeats.
    connectedSites: () => [],
    sessions: events,
    pid: () => supervisor.pid,
    async close() {
      await hubClients.closeAll();
      await supervisor.stop();
    },
  };
}
