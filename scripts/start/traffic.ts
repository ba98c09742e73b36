// Background traffic so there is something to see: at every site, web -> db (allowed by the demo
// policy) and app3 -> db (what the default deny reports in audit and drops once enforced).
import { probe, type Harness } from '../../field-tests/lib/index.ts';
import type { DemoSite } from './sites.ts';
import { DB_PORT } from './workloads.ts';

const PERIOD_MS = 3000;

export function startTraffic(h: Harness, sites: DemoSite[]): () => void {
  let stopped = false;
  const round = async () => {
    for (const s of sites.filter((x) => x.agent.running)) {
      const [web, db, app3] = s.net.pods;
      for (const from of [web, app3]) {
        if (stopped) return;
        await probe(h, from.ns, { host: db.ip, port: DB_PORT, timeoutMs: 1000 }).catch(() => undefined);
      }
    }
  };
  const loop = async () => {
    while (!stopped) {
      await round();
      await new Promise((r) => setTimeout(r, PERIOD_MS).unref());
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}
