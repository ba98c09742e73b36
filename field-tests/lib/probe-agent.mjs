// Connection attempts from inside a namespace, on request. One long-lived process per
// namespace (node cannot enter a namespace itself, and starting node per probe is slow on a
// loaded machine). Reads JSON lines {"id","proto","host","port","timeoutMs","mode"} on stdin and
// answers each with {"id","outcome","stage","ms","error"?} on stdout, where outcome is
// connected | refused | timeout | unreachable | reset | error.
import { connect, isIPv6 } from 'node:net';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

const outcomeOf = (code) =>
  code === 'ECONNREFUSED'
    ? 'refused'
    : code === 'ECONNRESET' || code === 'EPIPE'
      ? 'reset'
      : code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL'
        ? 'unreachable'
        : 'error';

function attempt({ proto, host, port, timeoutMs, mode }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const payload = `weft-probe-${process.pid}-${started}-${Math.random()}`;
    let stage = 'connect';
    let done = false;
    let sock;
    const finish = (outcome, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy?.();
      sock.close?.();
      resolve({ outcome, stage, ms: Date.now() - started, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    if (proto === 'tcp') {
      sock = connect({ host, port });
      let got = '';
      sock.on('connect', () => {
        if (mode === 'connect') return finish('connected');
        stage = 'echo';
        sock.write(payload);
      });
      sock.on('data', (d) => {
        got += d.toString();
        if (got.includes(payload)) finish('connected');
      });
      sock.on('error', (err) => finish(outcomeOf(err.code), err.code));
      sock.on('close', () => finish(stage === 'echo' ? 'reset' : 'error', 'closed'));
    } else {
      // UDP has no handshake: "connected" means the echo came back; "refused" is an ICMP port unreachable.
      stage = 'echo';
      sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
      sock.on('message', (msg) => msg.toString() === payload && finish('connected'));
      sock.on('error', (err) => finish(outcomeOf(err.code), err.code));
      sock.connect(port, host, () => sock.send(payload));
    }
  });
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  const req = JSON.parse(line);
  const res = await attempt(req);
  process.stdout.write(`${JSON.stringify({ id: req.id, ...res })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write('READY\n');
