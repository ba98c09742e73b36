// A test process that builds a little and then waits to be killed: harness.kernel.test.ts kills it
// with SIGKILL (nothing runs; the next sweep must clean up) or SIGTERM (the handler cleans up).
// With --graceful it handles SIGTERM itself, as `npm start` handles Ctrl-C.
import { mkdirSync } from 'node:fs';
import { Harness } from '../harness.ts';

const graceful = process.argv.includes('--graceful');
const h = await Harness.create({ cleanupOnSignals: !graceful });
const ns = await h.addNetns('crash');
const sleeper = h.spawn(ns, ['sleep', '600'], { name: 'sleeper' });
// where an agent of this run would pin its maps
const pins = h.names.pinRoot('crash');
mkdirSync(pins);
if (graceful) {
  process.on('SIGTERM', async () => {
    await h.cleanup();
    process.stdout.write('GRACEFUL\n');
    process.exit(0);
  });
}
process.stdout.write(`${JSON.stringify({ ns, sleeper: sleeper.pid, dir: h.dir, pins })}\n`);
setInterval(() => {}, 1000);
