// A stand-in agent for the restart test: opens the datapath on a pin root, applies the tables
// it is given, attaches to the interfaces, says "ready" and waits to be killed (kill -9).
//   node bin/run.mjs datapath/testing/enforcer-child.ts <pinRoot> <netnsPath> <tables.json> <generation> <ifindex>...
import { readFileSync } from 'node:fs';
import type { Tables } from '../../policy/index.ts';
import { LibbpfDatapath } from '../libbpf-datapath.ts';

const [pinRoot, netns, tablesFile, generation, ...ifindexes] = process.argv.slice(2);
const dp = await LibbpfDatapath.open({ pinRoot, netns });
await dp.apply(JSON.parse(readFileSync(tablesFile, 'utf8')) as Tables, Number(generation));
for (const i of ifindexes) await dp.attach({ pod: `ifindex-${i}`, ifindex: Number(i), ips: [] });
process.stdout.write('ready\n');
setInterval(() => undefined, 1 << 30);
