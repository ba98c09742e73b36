// Shared by the kernel tests: whether they can run here (and why not), and unique pin roots.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { artifactPaths } from '../artifacts.ts';
import { LibbpfDatapath, type LibbpfDatapathOptions } from '../libbpf-datapath.ts';

function why(): string | undefined {
  if (process.getuid?.() !== 0) return 'kernel datapath tests need root (CAP_BPF, CAP_NET_ADMIN)';
  const p = artifactPaths();
  if (!existsSync(p.addon) || !existsSync(p.objects.podEgress)) return `datapath artifacts missing (${p.addon}); run npm run build:bpf`;
  return undefined;
}

export const kernelSkipReason = why();
if (kernelSkipReason) console.warn(`skipping kernel datapath tests: ${kernelSkipReason}`);

export function uniquePinRoot(): string {
  return `/sys/fs/bpf/weft-test-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** A datapath on a fresh pin root, and its cleanup. */
export async function openTestDatapath(opts: LibbpfDatapathOptions = {}): Promise<{ dp: LibbpfDatapath; cleanup: () => Promise<void> }> {
  const pinRoot = opts.pinRoot ?? uniquePinRoot();
  const dp = await LibbpfDatapath.open({ ...opts, pinRoot });
  return {
    dp,
    cleanup: async () => {
      await dp.close();
      LibbpfDatapath.unpin(pinRoot);
    },
  };
}
