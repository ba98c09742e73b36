import { copyFileSync, writeFileSync } from 'node:fs';
import { buildSea } from '../edge-agent/packaging/build-sea.ts';
import { buildImage } from './build-image.ts';
import { provisionImage } from './provision-image.ts';
import { bootImage } from './qemu.ts';
import { startTestHub } from '../hub/testing/hub-fixture.ts';

const t0 = Date.now();
const sea = await buildSea({});
console.log('sea', sea, (Date.now() - t0) / 1000);
const img = buildImage({ agent: sea.binary, out: '/tmp/wimg/out', agentSettings: { tunnel: 'off', logLevel: 'debug' }, kernelArgs: ['systemd.journald.forward_to_console=1'], log: (m) => console.log('build:', m) });
console.log('image', img, (Date.now() - t0) / 1000);
const t = await startTestHub((c) => { c.tlsNames = ['10.0.2.100']; c.publicUrl = 'https://10.0.2.100:8443'; c.mqtt.siteUrl = 'mqtt://10.0.2.100:1883'; });
await t.api('POST', '/v1/sites', { name: 'store-042' });
const tok = await t.api('POST', '/v1/sites/store-042/token', {});
console.log(tok.body.provisioning);
writeFileSync('/tmp/wimg/p.json', JSON.stringify(tok.body.provisioning));
copyFileSync(img.raw, '/tmp/wimg/a.img');
provisionImage('/tmp/wimg/a.img', '/tmp/wimg/p.json');
const https = Number(new URL(t.hub.url).port);
const vm = bootImage({ image: '/tmp/wimg/a.img', forwards: [{ guest: '10.0.2.100', guestPort: 8443, hostPort: https }, { guest: '10.0.2.100', guestPort: 1883, hostPort: t.hub.broker.port }], serialLog: '/tmp/wimg/serial.log' });
const e = await vm.waitFor(/weft: enrolled as site store-042/, 600_000);
console.log('enrolled after', (e.at - vm.startedAt) / 1000);
const v = await t.api('POST', '/v1/policies', { files: [{ name: 'db.yaml', content: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432, protocol: TCP}]
` }], message: 'm' });
console.log(v.body);
const r = await t.api('POST', '/v1/rollouts', { version: v.body.version });
console.log(JSON.stringify(r.body).slice(0, 500));
const f = await vm.waitFor(/weft: enforcing generation [1-9]/, 600_000);
console.log('enforcing after', (f.at - vm.startedAt) / 1000, f.match[0]);
await vm.stop();
await t.close();
