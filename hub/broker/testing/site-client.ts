// A site's MQTT session in its own process, so a test can kill -9 it and watch the last will.
// Usage: node bin/run.mjs hub/broker/testing/site-client.ts <url>   (site JSON on stdin)
import { connectSite, type TestSite } from './sites.ts';
import { topics } from '../../../protocol/index.ts';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const site = JSON.parse(Buffer.concat(chunks).toString()) as TestSite;
const client = await connectSite(process.argv[2], site);
await client.publishAsync(topics.status(site.siteId), JSON.stringify({ v: 1, state: 'online' }), { qos: 1, retain: true });
process.stdout.write('ready\n');
setInterval(() => undefined, 1 << 30);
