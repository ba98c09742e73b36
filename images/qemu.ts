// Boots an appliance image under QEMU (TCG, or WEFT_QEMU_ACCEL=kvm) with UEFI and a
// serial console read by the caller. User-mode networking is restricted: the guest reaches only
// the host ports it is given through guestfwd, nothing else.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { ImageError } from './errors.ts';
import { sh } from './exec.ts';

export const OVMF = '/usr/share/ovmf/OVMF.fd';

export interface GuestForward {
  /** Address and port the guest connects to, inside 10.0.2.0/24. */
  guest: string;
  guestPort: number;
  hostPort: number;
}

export interface BootOptions {
  image: string;
  forwards: GuestForward[];
  memMiB?: number;
  cpus?: number;
  /** Discard the guest's writes (the image file stays as it was). */
  snapshot?: boolean;
  /** Also append the serial console to this file (kept for a failed test). */
  serialLog?: string;
}

export interface Vm {
  proc: ChildProcess;
  /** When qemu was started (Date.now()). */
  startedAt: number;
  /** Everything the serial console printed so far. */
  serial(): string;
  /** Resolves with the first match of `re` in the console output from offset `since` on (default 0). */
  waitFor(re: RegExp, timeoutMs: number, since?: number): Promise<{ match: RegExpMatchArray; at: number; end: number }>;
  /** Types on the serial console (a technician at the keyboard). */
  type(text: string): void;
  /** Pulls the plug: no shutdown inside the guest, like a power cut at the store. */
  stop(): Promise<void>;
}

export function qemuArgs(o: BootOptions): string[] {
  // cmd: runs socat per guest connection. A `-tcp:host:port` target would be ONE host connection
  // opened when qemu starts, so a reconnect (or a broker's idle timeout) would cut the guest off.
  const fwd = o.forwards.map((f) => `,guestfwd=tcp:${f.guest}:${f.guestPort}-cmd:socat - TCP:127.0.0.1:${f.hostPort}`).join('');
  return [
    '-machine',
    'q35',
    '-m',
    String(o.memMiB ?? 1024),
    '-smp',
    String(o.cpus ?? 2),
    // TCG by default: nested KVM in sandboxes often opens /dev/kvm and then fails to emulate.
    '-accel',
    process.env.WEFT_QEMU_ACCEL ?? 'tcg',
    '-bios',
    OVMF,
    '-drive',
    `file=${o.image},format=raw,if=virtio${o.snapshot ? ',snapshot=on' : ''}`,
    // restrict=on: no route out of the guest but the guestfwd entries (and slirp's own DHCP).
    '-netdev',
    `user,id=n0,restrict=on${fwd}`,
    '-device',
    'virtio-net-pci,netdev=n0',
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    'stdio',
    '-no-reboot',
  ];
}

export function bootImage(o: BootOptions): Vm {
  if (!existsSync(OVMF)) throw new ImageError('IMAGE_TOOL_MISSING', `${OVMF} is missing`, 'apt-get install ovmf (npm run setup does it as root)');
  if (o.forwards.length) sh('socat', ['-V']);
  const proc = spawn('qemu-system-x86_64', qemuArgs(o), { stdio: ['pipe', 'pipe', 'pipe'] });
  const startedAt = Date.now();
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    const text = b
      .toString('utf8')
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/\r/g, '');
    out += text;
    if (o.serialLog) appendFileSync(o.serialLog, text);
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  proc.on('error', (e) => onData(Buffer.from(`\nqemu: ${e.message}\n`)));
  return {
    proc,
    startedAt,
    serial: () => out,
    waitFor(re, timeoutMs, since = 0) {
      return new Promise((resolve, reject) => {
        const tail = () => out.slice(-3000);
        const check = () => {
          const m = out.slice(since).match(re);
          if (m) {
            cleanup();
            resolve({ match: m, at: Date.now(), end: since + (m.index ?? 0) + m[0].length });
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} on the serial console; last output:\n${tail()}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`qemu exited while waiting for ${re}; last output:\n${tail()}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          proc.off('exit', onExit);
        };
        waiters.add(check);
        proc.once('exit', onExit);
        if (proc.exitCode !== null) onExit();
        else check();
      });
    },
    type(text) {
      proc.stdin!.write(text);
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await done;
    },
  };
}
