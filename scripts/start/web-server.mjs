// The demo's "web" pod: a tiny HTTP server that says which site answered, so a user sent by the
// router (dig, /go) sees the failover. Plain node, no loader: it starts fast in a pod namespace.
// usage: node web-server.mjs <site> <port>
import { createServer } from 'node:http';

const [site, port] = process.argv.slice(2);
createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello from ${site} (${req.socket.localAddress})\n`);
}).listen(Number(port), '0.0.0.0', () => process.stdout.write(`WEB ${site} ${port}\n`));
