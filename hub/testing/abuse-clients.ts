// Raw clients for abuse tests and the abuse benchmark: an MQTT 3.1.1 CONNECT encoder (so a test can
// send anything after it, byte for byte), HTTPS requests that tolerate the server hanging up, a UDP
// DNS prober that records each answer's latency, and a stall-free TCP opener.
import https from 'node:https';
import { connect as tcpConnect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { mqttLength } from '../broker/testing/mqtt-wire.ts';

export { mqttLength };

const str = (s: string | Buffer) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** A CONNECT (MQTT 3.1.1, clean session, keepalive 60 s) with user name and password. */
export function mqttConnect(clientId: string, username?: string, password?: string): Buffer {
  const flags = 0x02 | (username !== undefined ? 0x80 : 0) | (password !== undefined ? 0x40 : 0);
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, 0, 60]),
    str(clientId),
    ...(username !== undefined ? [str(username)] : []),
    ...(password !== undefined ? [str(password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), mqttLength(body.length), body]);
}

/** A PUBLISH at QoS 0 or 1. */
export function mqttPublish(topic: string, payload: Buffer, qos: 0 | 1 = 0): Buffer {
  const body = Buffer.concat([str(topic), ...(qos ? [Buffer.from([0, 1])] : []), payload]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), mqttLength(body.length), body]);
}

/** A SUBSCRIBE to one filter. */
export function mqttSubscribe(filter: string, qos = 0): Buffer {
  const body = Buffer.concat([Buffer.from([0, 1]), str(filter), Buffer.from([qos])]);
  return Buffer.concat([Buffer.from([0x82]), mqttLength(body.length), body]);
}

export function openTcp(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ port, host }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with the first `n` bytes the socket sends, or null if it closes or `ms` pass first. */
export function readBytes(s: Socket, n: number, ms = 2_000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (v: Buffer | null) => {
      clearTimeout(t);
      s.off('data', onData);
      resolve(v);
    };
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= n) done(got.subarray(0, n));
    };
    const t = setTimeout(() => done(null), ms);
    s.on('data', onData);
    s.once('close', () => done(null));
  });
}

export interface HttpsResult {
  status: number;
  body: string;
}

/** One HTTPS request; status 0 when the server hung up before answering. */
export function httpsRequest(url: string, ca: string, method: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpsResult> {
  return new Promise((resolve) => {
    const req = https.request(url, { method, ca, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end(body);
  });
}

/** The prober's loop, as plain JavaScript run on its own thread (a busy test loop cannot delay it). */
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createSocket } = require('node:dgram');
const { port, query, everyMs, timeoutMs } = workerData;
const s = createSocket('udp4');
const sent = new Map();
let latencies = [];
let lost = 0;
let id = 0;
s.on('message', (m) => {
  const at = sent.get(m.readUInt16BE(0));
  if (at === undefined) return;
  sent.delete(m.readUInt16BE(0));
  latencies.push(performance.now() - at);
});
const timer = setInterval(() => {
  const now = performance.now();
  for (const [k, at] of sent) if (now - at > timeoutMs) { sent.delete(k); lost++; }
  id = (id + 1) & 0xffff;
  const q = Buffer.from(query);
  q.writeUInt16BE(id, 0);
  sent.set(id, now);
  s.send(q, port, '127.0.0.1');
}, everyMs);
parentPort.on('message', (m) => {
  if (m === 'take') { parentPort.postMessage({ latencies, lost }); latencies = []; lost = 0; }
  else { clearInterval(timer); s.close(); parentPort.close(); }
});
`;

export interface ProbeResult {
  latencies: number[];
  lost: number;
}

/**
 * Sends `query` to a DNS server over UDP every `everyMs` from a thread of its own and records each
 * answer's latency; an answer not back within `timeoutMs` counts as lost.
 */
export function dnsProber(port: number, query: Buffer, everyMs = 20, timeoutMs = 1_000) {
  const w = new Worker(PROBER, { eval: true, workerData: { port, query, everyMs, timeoutMs } });
  return {
    /** Latencies (ms) and lost probes since the last take. */
    take(): Promise<ProbeResult> {
      return new Promise((resolve) => {
        w.once('message', (r: ProbeResult) => resolve(r));
        w.postMessage('take');
      });
    },
    async stop(): Promise<void> {
      w.postMessage('stop');
      await new Promise((r) => w.once('exit', r));
    },
  };
}
