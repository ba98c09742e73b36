// The datapath contract (datapath/testing/contract.ts) over the kernel programs: BPF_PROG_TEST_RUN
// against the real maps, as root.
import { frame } from './packet.ts';
import { datapathContract } from './testing/contract.ts';
import { kernelSkipReason, openTestDatapath } from './testing/kernel.ts';

datapathContract(
  'libbpf',
  async () => {
    const { dp, cleanup } = await openTestDatapath({ allowSampleRate: 1 });
    return { dp, send: (dir, p) => dp.testRun(dir, frame(p)).pass, flush: () => dp.drainEvents(), cleanup };
  },
  kernelSkipReason,
);
