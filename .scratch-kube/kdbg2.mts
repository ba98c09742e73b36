import { FakeApiServer } from '/work/main/edge-agent/kube/fake-apiserver.ts';
const k8s = await import('@kubernetes/client-node');
const api = await FakeApiServer.start({ token: 't' });
api.writeKubeconfig('/tmp/kdbg.yaml');
const r = await fetch(api.url + '/apis', { headers: { authorization: 'Bearer t' } }); console.log(r.status, (await r.text()).slice(0, 100));
const kc = new k8s.KubeConfig(); kc.loadFromFile('/tmp/kdbg.yaml');
console.log('cluster', kc.getCurrentCluster());
const t = setTimeout(() => { console.log('hung'); process.exit(1); }, 5000);
try { const g = await kc.makeApiClient(k8s.ApisApi).getAPIVersions(); console.log('groups', g.groups.map((x) => x.name)); } catch (e) { console.log('err', e); }
clearTimeout(t); await api.stop();
