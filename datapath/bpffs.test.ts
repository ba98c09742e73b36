import { describe, expect, it } from 'vitest';
import { type BpffsFacts, planBpffs } from './bpffs.ts';

const facts = (bpffsMounts: string[], privateNamespaceFrom: number | null | undefined): BpffsFacts => ({ bpffsMounts, privateNamespaceFrom });

describe('planBpffs', () => {
  it.each([
    ['host bpffs covers the pin root', '/sys/fs/bpf/weft', facts(['/sys/fs/bpf'], null), 'ok'],
    ['a bpffs bound into a private namespace covers it', '/sys/fs/bpf/weft', facts(['/sys/fs/bpf'], 1), 'ok'],
    ['no bpffs, host namespace: mount', '/sys/fs/bpf/weft', facts([], null), 'mount'],
    ['no bpffs, namespace unknown: mount (nothing says it is private)', '/sys/fs/bpf/weft', facts([], undefined), 'mount'],
    ['no bpffs, private namespace: refuse', '/sys/fs/bpf/weft', facts([], 4242), 'DATAPATH_BPFFS_PRIVATE_NS'],
    ['a pin root outside /sys/fs/bpf with no bpffs: refuse', '/tmp/weft', facts([], null), 'DATAPATH_KERNEL_FEATURE'],
    ['a prefix of a name is not a cover', '/sys/fs/bpfx/weft', facts(['/sys/fs/bpf'], null), 'DATAPATH_KERNEL_FEATURE'],
  ])('%s', (_name, pinRoot, f, want) => {
    const plan = planBpffs(pinRoot, f);
    expect(plan.kind === 'refuse' ? plan.error.code : plan.kind).toBe(want);
  });

  it('the refusal names the fix', () => {
    const plan = planBpffs('/sys/fs/bpf/weft', facts([], 7));
    expect(plan.kind === 'refuse' && plan.error.hint).toMatch(/mount -t bpf bpf \/sys\/fs\/bpf.*on the host/);
  });
});
