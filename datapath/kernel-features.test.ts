// Missing kernel features and refused loads become one DatapathError naming the feature and the fix.
import { describe, expect, it } from 'vitest';
import { checkKernelVersion, explainNativeError } from './kernel-features.ts';
import type { NativeError } from './native.ts';

const native = (message: string, errno: number, log = ''): NativeError => Object.assign(new Error(message), { errno, log });

describe('kernel features', () => {
  it('refuses kernels without BPF ring buffers, naming the version', () => {
    expect(() => checkKernelVersion('5.4.0-150-generic')).toThrow(
      expect.objectContaining({
        code: 'DATAPATH_KERNEL_FEATURE',
        message: expect.stringMatching(/kernel 5\.4\.0-150-generic is too old: BPF ring buffers need Linux 5\.8/),
      }),
    );
    expect(() => checkKernelVersion('5.8.0')).not.toThrow();
    expect(() => checkKernelVersion('6.1.0-18-amd64')).not.toThrow();
  });

  it.each<[string, NativeError, string, RegExp]>([
    ['no privileges', native('load x: Operation not permitted', 1), 'DATAPATH_KERNEL_FEATURE', /needs root/],
    [
      'verifier refusal (EACCES with a log)',
      native('load x: Permission denied', 13, '-- BEGIN PROG LOAD LOG --\n0: R1=ctx() R10=fp0\ninvalid access to packet\nprocessed 3 insns'),
      'DATAPATH_LOAD',
      /verifier log above/,
    ],
    [
      'pinned maps of other sizes',
      native('load x: Invalid argument', 22, "libbpf: couldn't reuse pinned map at '/sys/fs/bpf/weft/weft_rules': parameter mismatch"),
      'DATAPATH_LOAD',
      /same datapath\.limits/,
    ],
    ['no clsact', native('create clsact qdisc: Operation not supported', 95), 'DATAPATH_KERNEL_FEATURE', /CONFIG_NET_SCH_INGRESS/],
    ['no ring buffers', native('load x: Invalid argument', 22, 'map weft_events: BPF_MAP_TYPE_RINGBUF not supported'), 'DATAPATH_KERNEL_FEATURE', /5\.8/],
    ['no BTF', native('load x: Invalid argument', 22, 'libbpf: kernel BTF is missing'), 'DATAPATH_KERNEL_FEATURE', /CONFIG_DEBUG_INFO_BTF/],
  ])('%s', (_what, e, code, hint) => {
    const d = explainNativeError('loading pod_egress.o', e, '/sys/fs/bpf/weft');
    expect(d.code).toBe(code);
    expect(d.hint).toMatch(hint);
    expect(d.message).toContain(e.message);
  });
});
