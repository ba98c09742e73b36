// Run by bpffs.kernel.test.ts inside `unshare -m`: opens the kernel datapath on a pin root as the
// agent does and prints the outcome as one JSON line (then closes and unpins what it made).
import { LibbpfDatapath } from '../libbpf-datapath.ts';

const pinRoot = process.argv[2];
try {
  const dp = await LibbpfDatapath.open({ pinRoot });
  await dp.close();
  LibbpfDatapath.unpin(pinRoot);
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
} catch (e) {
  const err = e as { code?: string; message?: string };
  process.stdout.write(`${JSON.stringify({ ok: false, code: err.code, message: err.message })}\n`);
}
