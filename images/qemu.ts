// Boots an appliance image under QEMU (TCG, or WEFT_QEMU_ACCEL=kvm) with UEFI and a
// serial console read by the caller. User-mode networking is restricted: the guest reaches only
// the host ports it is given through guestfwd, nothing else.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export const OVMF = '/usr/share/ovmf/OVMF.fd';

export interface GuestForward {
  /** Address and port the guest connects to, inside 10.0.2.0/24. */
  guest: string;
  guestPort: number;
  hostPort: number;
}

export interface Vm {
  proc: ChildProcess;
  /** Everything the serial console printed so far. */
  serial(): string;
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export function bootImage(opts: { image: string; forwards: GuestForward[]; memMiB?: number; snapshot?: boolean }): Vm {
  if (!existsSync(OVMF)) throw new Error(`${OVMF} missing: apt-get install ovmf`);
  const fwd = opts.forwards.map((f) => `,guestfwd=tcp:${f.guest}:${f.guestPort}-tcp:127.0.0.1:${f.hostPort}`).join('');
  const args = [
    '-machine', 'q35', '-m', String(opts.memMiB ?? 1024), '-smp', '2',
    // TCG by default: nested KVM in sandboxes often opens /dev/kvm and then fails to emulate.
    '-accel', process.env.WEFT_QEMU_ACCEL ?? 'tcg',
    '-bios', OVMF,
    '-drive', `file=${opts.image},format=raw,if=virtio${opts.snapshot ? ',snapshot=on' : ''}`,
    '-netdev', `user,id=n0,restrict=on${fwd}`, '-device', 'virtio-net-pci,netdev=n0',
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
  ];
  const proc = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString('utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  return {
    proc,
    serial: () => out,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        let from = 0;
        const check = () => {
          const m = out.slice(from).match(re);
          if (m) { cleanup(); resolve(m); }
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} on the serial console; last output:\n${out.slice(-3000)}`)); }, timeoutMs);
        const onExit = () => { cleanup(); reject(new Error(`qemu exited while waiting for ${re}; last output:\n${out.slice(-3000)}`)); };
        const cleanup = () => { clearTimeout(timer); waiters.delete(check); proc.off('exit', onExit); };
        waiters.add(check);
        proc.once('exit', onExit);
        check();
        from = 0;
      });
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await done;
    },
  };
}
