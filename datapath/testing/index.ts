// datapath/testing/: harnesses for tests and benchmarks of other parts that drive the real
// datapath: skip reasons when the kernel cannot run BPF, unique pin roots, veth topologies.
export { kernelSkipReason, openTestDatapath, uniquePinRoot } from './kernel.ts';
export { EXTERNAL, Probe, SctpListener, Topology } from './netns.ts';
export type { Pod, ProbeAnswer, SctpInit } from './netns.ts';
