// What the datapath needs from the kernel, checked up front so a missing feature is one clear
// error naming it and the fix, instead of an errno from deep inside libbpf.
import { errno } from '../base/index.ts';
import { release } from 'node:os';
import { DatapathError } from './errors.ts';
import type { NativeError } from './native.ts';

/** BPF ring buffers arrived in 5.8; everything else we use is older. */
const MIN_KERNEL: [number, number] = [5, 8];

export function checkKernelVersion(rel = release()): void {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  if (!m) return;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  if (maj < MIN_KERNEL[0] || (maj === MIN_KERNEL[0] && min < MIN_KERNEL[1])) {
    throw new DatapathError(
      'DATAPATH_KERNEL_FEATURE',
      `kernel ${rel} is too old: BPF ring buffers need Linux ${MIN_KERNEL.join('.')} or newer`,
      'upgrade the appliance kernel (the Weft image ships 6.1)',
    );
  }
}

/** An addon error from loading or attaching, turned into a DatapathError with the fix. */
export function explainNativeError(what: string, e: NativeError, pinRoot: string): DatapathError {
  const log = e.log?.trim() ? `\n${e.log.trim()}` : '';
  const msg = `${what}: ${e.message}${log}`;
  // The verifier refuses a program with EACCES too: its log, not the errno, tells it from missing privileges.
  const verifier = /BEGIN PROG LOAD LOG|processed \d+ insns/.test(e.log ?? '');
  if (!verifier && (e.errno === errno.EPERM || e.errno === errno.EACCES))
    return new DatapathError('DATAPATH_KERNEL_FEATURE', msg, 'the datapath needs root (or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)');
  if (/couldn't reuse pinned map|parameter mismatch/i.test(e.log ?? '')) {
    return new DatapathError(
      'DATAPATH_LOAD',
      msg,
      `maps pinned under ${pinRoot} were created with other sizes: restart with the same datapath.limits, or remove ${pinRoot} (enforcement stops until the next apply)`,
    );
  }
  if (e.errno === errno.EOPNOTSUPP || /clsact|qdisc/i.test(e.message))
    return new DatapathError('DATAPATH_KERNEL_FEATURE', msg, 'the kernel lacks tc clsact or cls_bpf: enable CONFIG_NET_SCH_INGRESS and CONFIG_NET_CLS_BPF');
  if (e.errno === errno.EINVAL && /ringbuf|RINGBUF/i.test(e.log ?? ''))
    return new DatapathError('DATAPATH_KERNEL_FEATURE', msg, 'BPF ring buffers need Linux 5.8 or newer');
  if (/BTF/i.test(e.log ?? '') && e.errno === errno.EINVAL)
    return new DatapathError('DATAPATH_KERNEL_FEATURE', msg, 'the kernel lacks BTF: use a kernel built with CONFIG_DEBUG_INFO_BTF=y');
  return new DatapathError(
    'DATAPATH_LOAD',
    msg,
    'the verifier log above says which instruction was refused; rebuild with `npm run build:bpf` against this kernel',
  );
}
