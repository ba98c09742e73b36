// For the bpffs test: opens the datapath on a pin root (in whatever mount namespace it was started
// in) and prints where bpffs is mounted afterwards, as JSON.
//   node bin/run.mjs datapath/testing/open-child.ts <pinRoot>
import { readFileSync } from 'node:fs';
import { LibbpfDatapath } from '../libbpf-datapath.ts';

const dp = await LibbpfDatapath.open({ pinRoot: process.argv[2] });
const bpffs = readFileSync('/proc/self/mounts', 'utf8')
  .split('\n')
  .map((l) => l.split(' '))
  .filter((f) => f[2] === 'bpf')
  .map((f) => f[1]);
process.stdout.write(JSON.stringify({ bpffs, generation: await dp.appliedGeneration() }) + '\n');
await dp.close();
