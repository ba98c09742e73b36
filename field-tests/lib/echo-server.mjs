// A TCP and UDP echo server for connectivity checks, run inside a namespace with plain node
// (no TypeScript loader, so it starts fast). Prints "ECHO tcp=<port> udp=<port>" when listening.
// usage: node echo-server.mjs [--host ::] [--tcp 0] [--udp 0]   (port 0: any free port; -1: off)
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const host = opt('host', '::');
const tcpPort = Number(opt('tcp', '0'));
const udpPort = Number(opt('udp', '0'));

const tcp =
  tcpPort < 0
    ? undefined
    : await new Promise((resolve, reject) => {
        const server = createServer((sock) => {
          sock.on('error', () => sock.destroy());
          sock.pipe(sock);
        });
        server.on('error', reject);
        server.listen({ host, port: tcpPort }, () => resolve(server.address().port));
      });

const udp =
  udpPort < 0
    ? undefined
    : await new Promise((resolve, reject) => {
        const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
        sock.on('error', reject);
        sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
        sock.bind({ address: host, port: udpPort }, () => resolve(sock.address().port));
      });

process.stdout.write(`ECHO tcp=${tcp ?? -1} udp=${udp ?? -1}\n`);
