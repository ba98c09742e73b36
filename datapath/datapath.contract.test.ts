// The datapath contract (datapath/testing/contract.ts) over the in-memory fake: runs anywhere.
import { datapathContract } from './testing/contract.ts';
import { MemoryDatapath } from './testing/memory-datapath.ts';

datapathContract('memory', async () => {
  const dp = new MemoryDatapath({ allowSampleRate: 1 });
  await dp.attach({ pod: 'node', ifindex: 1, ips: [] });
  return { dp, send: (dir, p) => dp.judge(1, dir, p, { icmpId: p.icmpId, inner: p.inner }).pass, flush: () => undefined, cleanup: () => dp.close() };
});
