// A test process that builds a little and then waits to be killed: harness.test.ts kills it
// with SIGKILL (nothing runs; the next sweep must clean up) or SIGTERM (the handler cleans up).
import { Harness } from '../harness.ts';

const h = await Harness.create();
const ns = await h.addNetns('crash');
const sleeper = h.spawn(ns, ['sleep', '600'], { name: 'sleeper' });
process.stdout.write(`${JSON.stringify({ ns, sleeper: sleeper.pid, dir: h.dir })}\n`);
setInterval(() => {}, 1000);
