// A pod's client of a name, from inside the pod's namespace: every `interval` ms it asks the resolver
// for the name (UDP, its own query, as a stub resolver does), then connects to the first address of
// the answer on TCP `port` and checks the echo. One JSON line per attempt on stdout:
// {"at","name","addr","outcome","dnsMs","answerToConnectMs","error"?}; outcome: connected | timeout |
// refused | reset | dns-timeout | dns-empty | error. Stops on "stop" on stdin.
// Usage: node fqdn-probe.mjs <resolver> <name> <port> <intervalMs> <connectTimeoutMs>
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [resolver, name, port, interval, connectTimeout] = process.argv.slice(2);

function query(id) {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

/** The first A record of a response (names skipped, pointers or labels). */
function firstA(msg) {
  const an = msg.readUInt16BE(6);
  let p = 12;
  const skipName = () => {
    for (;;) {
      const c = msg[p];
      if (c === 0) return void p++;
      if ((c & 0xc0) === 0xc0) return void (p += 2);
      p += c + 1;
    }
  };
  skipName();
  p += 4;
  for (let i = 0; i < an; i++) {
    skipName();
    const type = msg.readUInt16BE(p);
    const len = msg.readUInt16BE(p + 8);
    if (type === 1 && len === 4) return [...msg.subarray(p + 10, p + 14)].join('.');
    p += 10 + len;
  }
  return null;
}

function resolve() {
  return new Promise((done) => {
    const s = createSocket('udp4');
    const id = Math.floor(Math.random() * 65536);
    const timer = setTimeout(() => {
      s.close();
      done({ error: 'dns-timeout' });
    }, 1000);
    s.on('message', (m) => {
      if (m.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      s.close();
      const addr = firstA(m);
      done(addr ? { addr } : { error: 'dns-empty' });
    });
    s.send(query(id), 53, resolver);
  });
}

function tcp(addr) {
  return new Promise((done) => {
    const start = performance.now();
    const sock = connect({ host: addr, port: Number(port) });
    const payload = `fqdn-${process.pid}-${start}`;
    let got = '';
    const finish = (outcome, error) => {
      clearTimeout(timer);
      sock.destroy();
      done({ outcome, ms: performance.now() - start, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish('timeout'), Number(connectTimeout));
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => {
      got += d;
      if (got.includes(payload)) finish('connected');
    });
    sock.on('error', (e) => finish(e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ECONNRESET' ? 'reset' : 'error', e.code));
  });
}

let stopped = false;
createInterface({ input: process.stdin }).on('line', (l) => {
  if (l.trim() === 'stop') stopped = true;
});

while (!stopped) {
  const started = performance.now();
  const at = Date.now();
  const r = await resolve();
  const answered = performance.now();
  let line;
  if (r.error) line = { at, name, addr: null, outcome: r.error, dnsMs: answered - started, answerToConnectMs: null };
  else {
    const c = await tcp(r.addr);
    line = {
      at,
      name,
      addr: r.addr,
      outcome: c.outcome,
      dnsMs: answered - started,
      answerToConnectMs: c.outcome === 'connected' ? c.ms : null,
      ...(c.error ? { error: c.error } : {}),
    };
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
  const wait = Number(interval) - (performance.now() - started);
  if (wait > 0) await new Promise((res) => setTimeout(res, wait));
}
process.exit(0);
