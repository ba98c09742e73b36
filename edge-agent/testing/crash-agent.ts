// Child of crash-apply.kernel.test.ts: the real agent (store, last-known-good restore, bundle intake, libbpf
// datapath on a test pin root) that the test kills with SIGKILL while it applies. It prints one line per
// step so the parent knows where the kill landed:
//   started {"restored":..,"kernel":N}   after the start sequence (waits for "go" on stdin)
//   applying N / applied N                around each datapath apply
//   node crash-agent.(ts|mjs) <dataDir> <pinRoot>
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Datapath } from '../../datapath/index.ts';
import { LibbpfDatapath } from '../../datapath/index.ts';
import { BundleIntake } from '../bundle-intake.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { runAgent } from '../run.ts';
import { crashBundle } from './crash-fleet.ts';

const [dataDir, pinRoot] = process.argv.slice(2);
const say = (line: string) => process.stdout.write(`${line}\n`);
const log = createLogger({ level: 'warn' });
const kernel = await LibbpfDatapath.open({ pinRoot });
// The real datapath, with a line before and after each apply.
const datapath: Datapath = {
  apply: async (t, g) => {
    say(`applying ${g}`);
    await kernel.apply(t, g);
    say(`applied ${g}`);
  },
  appliedGeneration: () => kernel.appliedGeneration(),
  attach: (e) => kernel.attach(e),
  detach: (e) => kernel.detach(e),
  events: () => kernel.events(),
  counters: () => kernel.counters(),
  close: () => kernel.close(),
};
const cfg = loadConfig({ flags: { dataDir, statusPort: 0, tunnel: 'off', kube: 'off', provisionFile: join(dataDir, 'none') }, env: {} });
const agent = await runAgent(cfg, { log, datapath: { kind: 'libbpf', datapath } });
say(`started ${JSON.stringify({ restored: agent.restored, kernel: await kernel.appliedGeneration() })}`);
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

const key = createPrivateKey(readFileSync(join(dataDir, 'hub-key.pem')));
const intake = new BundleIntake({
  store: agent.store!,
  enforcer: agent.enforcer!,
  siteId: agent.store!.identity.enrollment()!.siteId,
  log,
  sendAck: () => undefined,
});
for (let gen = agent.enforcer!.appliedGeneration + 1; ; gen++) {
  const out = await intake.receive(crashBundle(key, gen));
  if (out.result !== 'applied') throw new Error(`generation ${gen}: ${JSON.stringify(out)}`);
}
