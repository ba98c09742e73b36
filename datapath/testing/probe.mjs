// Runs inside a pod's network namespace (`ip netns exec <ns> node probe.mjs`) and makes real
// traffic on request: JSON commands on stdin, one JSON answer per line on stdout.
//   {id, op:'listen', proto:'tcp'|'udp', port, host?}    echo server (on host only, if given); answers {id, ok}
//   {id, op:'tcp', host, port, timeoutMs, from?}         connect (from a local address), send, expect the echo
//   {id, op:'udp', host, port, timeoutMs, connect?, from?}
//                                                        send a datagram, expect the echo; connected:
//                                                        an ICMP error (port unreachable) fails it at once
//   {id, op:'blast', host, port, ms, gapMs?}             a new UDP flow (new socket) per datagram, for ms
//   {id, op:'count'}                                     {received: {address: datagrams}} of the UDP echo servers
//   {id, op:'stop'}                                      ends a running blast early
//   {id, op:'pushServer', port}                          TCP server that keeps its connections silent
//   {id, op:'push'}                                      the push server writes 'push' to each connection
//   {id, op:'hold', host, port, timeoutMs}               a long-lived connection that only listens
//   {id, op:'heard', timeoutMs}                          whether a held connection received 'push' since
import net from 'node:net';
import dgram from 'node:dgram';
import readline from 'node:readline';

const reply = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const family = (host) => (host.includes(':') ? 'udp6' : 'udp4');

/** Datagrams the UDP echo servers received, by source address. */
const received = {};
function count({ id }) {
  reply({ id, ok: true, received });
}

function listen({ id, proto, port, host }) {
  if (proto === 'tcp') {
    const srv = net.createServer((s) => s.on('data', (d) => s.end(d)).on('error', () => {}));
    srv.listen(port, host ?? '::', () => reply({ id, ok: true }));
    srv.on('error', (e) => reply({ id, ok: false, error: e.message }));
    return;
  }
  // On one address (host) a reply leaves from it; on '::' from whatever the route picks.
  const s = host ? dgram.createSocket(family(host)) : dgram.createSocket({ type: 'udp6', ipv6Only: false });
  s.on('message', (m, r) => {
    const from = r.address.replace(/^::ffff:/, '');
    received[from] = (received[from] ?? 0) + 1;
    s.send(m, r.port, r.address);
  });
  s.on('error', (e) => reply({ id, ok: false, error: e.message }));
  s.bind(port, host ?? '::', () => reply({ id, ok: true }));
}

/** Answers once: on the echo, an error or the timeout, then closes the socket. */
function once(id, timeoutMs, close) {
  let finished = false;
  const t = setTimeout(() => done(false, 'timeout'), timeoutMs);
  function done(ok, error) {
    if (finished) return;
    finished = true;
    clearTimeout(t);
    reply({ id, ok, error, sport: close() });
  }
  return done;
}

function tcp({ id, host, port, timeoutMs, from }) {
  const s = net.connect({ host, port, localAddress: from });
  const done = once(id, timeoutMs, () => {
    const sport = s.localPort;
    s.destroy();
    return sport;
  });
  s.on('connect', () => s.write('weft'));
  s.on('data', (d) => done(d.toString() === 'weft'));
  s.on('error', (e) => done(false, e.message));
}

function udp({ id, host, port, timeoutMs, connect, from }) {
  const s = dgram.createSocket(family(host));
  if (from) s.bind(0, from);
  const done = once(id, timeoutMs, () => {
    let sport;
    try {
      sport = s.address().port;
    } catch {
      // never bound: the send failed before
    }
    s.close();
    return sport;
  });
  s.on('message', (m) => done(m.toString() === 'weft'));
  s.on('error', (e) => done(false, e.code ?? e.message));
  if (connect) s.connect(port, host, () => s.send('weft'));
  else s.send('weft', port, host);
}

let stopped = false;

function stop({ id }) {
  stopped = true;
  reply({ id, ok: true });
}

async function blast({ id, host, port, ms, gapMs = 0 }) {
  const end = Date.now() + ms;
  let sent = 0;
  stopped = false;
  while (Date.now() < end && !stopped) {
    await new Promise((resolve) => {
      const s = dgram.createSocket(family(host));
      s.send('weft', port, host, () => {
        sent++;
        s.close();
        // Let stdin (a stop command) in: sends may complete without reaching the poll phase.
        if (gapMs) setTimeout(resolve, gapMs);
        else setImmediate(resolve);
      });
    });
  }
  reply({ id, ok: true, sent });
}

// Server-initiated data on an established connection: at the client's pod it passes only by conntrack.
const pushed = [];
function pushServer({ id, port }) {
  const srv = net.createServer((s) => pushed.push(s.on('error', () => {})));
  srv.listen(port, '::', () => reply({ id, ok: true }));
  srv.on('error', (e) => reply({ id, ok: false, error: e.message }));
}

function push({ id }) {
  for (const s of pushed) s.write('push');
  reply({ id, ok: pushed.length > 0, sent: pushed.length });
}

let heardPush = false;
let onPush = null;
function hold({ id, host, port, timeoutMs }) {
  const s = net.connect({ host, port });
  const done = once(id, timeoutMs, () => s.localPort);
  s.on('connect', () => done(true));
  s.on('data', (d) => {
    if (!d.toString().includes('push')) return;
    if (onPush) onPush();
    else heardPush = true;
  });
  s.on('error', (e) => done(false, e.message));
}

function heard({ id, timeoutMs }) {
  if (heardPush) {
    heardPush = false;
    return reply({ id, ok: true });
  }
  const done = once(id, timeoutMs, () => {
    onPush = null;
  });
  onPush = () => done(true);
}

const ops = { listen, count, tcp, udp, blast, stop, pushServer, push, hold, heard };
readline
  .createInterface({ input: process.stdin })
  .on('line', (line) => {
    const cmd = JSON.parse(line);
    ops[cmd.op](cmd);
  })
  .on('close', () => process.exit(0));
