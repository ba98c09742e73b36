// A test process that builds a little and then waits to be killed: harness.test.ts kills it
// with SIGKILL (nothing runs; the next sweep must clean up) or SIGTERM (the handler cleans up).
// With --graceful it handles SIGTERM itself, as `npm start` handles Ctrl-C.
import { Harness } from '../harness.ts';

const graceful = process.argv.includes('--graceful');
const h = await Harness.create({ cleanupOnSignals: !graceful });
const ns = await h.addNetns('crash');
const sleeper = h.spawn(ns, ['sleep', '600'], { name: 'sleeper' });
if (graceful) {
  process.on('SIGTERM', async () => {
    await h.cleanup();
    process.stdout.write('GRACEFUL\n');
    process.exit(0);
  });
}
process.stdout.write(`${JSON.stringify({ ns, sleeper: sleeper.pid, dir: h.dir })}\n`);
setInterval(() => {}, 1000);
