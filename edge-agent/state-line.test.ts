import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatState, readStateLine, StateLine, type AgentState } from './state-line.ts';
import { waitFor } from '../base/index.ts';

const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
if (!hasSocat) console.warn('skipping the pty console test: socat is not installed (npm run setup installs it)');

describe('state line', () => {
  it.each<[AgentState, string]>([
    [{ kind: 'waiting-network' }, 'waiting for network'],
    [{ kind: 'enrolling', attempt: 3, lastError: 'hub unreachable: ECONNREFUSED' }, 'enrolling (attempt 3, hub unreachable: ECONNREFUSED)'],
    [{ kind: 'enrolled', siteId: 'store-042' }, 'enrolled as site store-042'],
    [{ kind: 'enforcing', generation: 7 }, 'enforcing generation 7'],
    [{ kind: 'enforcing', generation: 7, offline: true }, 'enforcing generation 7 (hub unreachable)'],
    [
      { kind: 'store-unavailable', path: '/data/agent.db', error: 'disk I/O error (STORE_IO); fix: check the disk' },
      'not enforcing: cannot open the store /data/agent.db: disk I/O error (STORE_IO); fix: check the disk',
    ],
    [
      { kind: 'store-unavailable', path: '/data/agent.db', error: 'disk I/O error (STORE_IO)', pinnedGeneration: 6 },
      'enforcing generation 6 from the pinned kernel state only, not from the store: cannot open /data/agent.db: disk I/O error (STORE_IO)',
    ],
  ])('%j -> %s', (s, want) => expect(formatState(s)).toBe(want));

  it('writes the line to its file and reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-state-'));
    try {
      const seen: string[] = [];
      const s = new StateLine(join(dir, 'run', 'state'), (l) => seen.push(l));
      s.set({ kind: 'enforcing', generation: 3 });
      expect(readStateLine(join(dir, 'run', 'state'))).toBe('enforcing generation 3');
      expect(seen).toEqual(['enforcing generation 3']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('echoes each change (not repeats) to the console device, and a missing console costs nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-wag-console-'));
    try {
      const dev = join(dir, 'ttyS0');
      writeFileSync(dev, 'store-042 login: '); // agetty's prompt, left without a newline
      const s = new StateLine(join(dir, 'state'), undefined, dev);
      s.set({ kind: 'waiting-network' });
      s.set({ kind: 'enforcing', generation: 3 });
      s.set({ kind: 'enforcing', generation: 3 });
      const out = readFileSync(dev, 'utf8');
      expect(out).toBe('store-042 login: \r\nweft: waiting for network\r\n\r\nweft: enforcing generation 3\r\n');
      // Each state is a row of its own: never `login: weft: ...`.
      expect(out.split('\r\n')).toEqual(['store-042 login: ', 'weft: waiting for network', '', 'weft: enforcing generation 3', '']);
      const gone = new StateLine(join(dir, 'state2'), undefined, join(dir, 'no-such-tty'));
      gone.set({ kind: 'enforcing', generation: 4 });
      expect(readStateLine(join(dir, 'state2'))).toBe('enforcing generation 4');
      expect(existsSync(join(dir, 'no-such-tty'))).toBe(false); // never created as a file
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasSocat)('reaches a real terminal: the line arrives at the other end of a pty pair', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-wag-pty-'));
    const socat = spawn('socat', [`pty,raw,echo=0,link=${join(dir, 'agent-side')}`, `pty,raw,echo=0,link=${join(dir, 'tech-side')}`], { stdio: 'ignore' });
    try {
      await waitFor(() => existsSync(join(dir, 'agent-side')) && existsSync(join(dir, 'tech-side')), { timeoutMs: 10_000, what: 'pty pair' });
      let seen = '';
      const reader = createReadStream(join(dir, 'tech-side'));
      reader.on('data', (c) => (seen += String(c)));
      reader.on('error', () => undefined); // EIO once socat closes the pty under a pending read
      await new Promise((r) => reader.once('open', r));
      new StateLine(join(dir, 'state'), undefined, join(dir, 'agent-side')).set({ kind: 'enrolled', siteId: 'store-042' });
      await waitFor(() => seen.endsWith('store-042\r\n'), { timeoutMs: 10_000, what: 'line on the terminal' });
      // The leading CR LF puts the line on a row of its own, even right after a `login: ` prompt.
      expect(seen).toBe('\r\nweft: enrolled as site store-042\r\n');
      reader.destroy();
    } finally {
      socat.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasSocat)('a busy terminal delays the line, never loses it: what did not fit is written once there is room', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-wag-pty-'));
    const socat = spawn('socat', [`pty,raw,echo=0,link=${join(dir, 'agent-side')}`, `pty,raw,echo=0,link=${join(dir, 'tech-side')}`], { stdio: 'ignore' });
    try {
      await waitFor(() => existsSync(join(dir, 'agent-side')) && existsSync(join(dir, 'tech-side')), { timeoutMs: 10_000, what: 'pty pair' });
      // The relay stops reading: fill the agent's side until it says EAGAIN, as a 115200-baud serial line
      // does under the journal's output.
      socat.kill('SIGSTOP');
      const fd = openSync(join(dir, 'agent-side'), constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
      const filler = Buffer.alloc(4096, 'x');
      let queued = 0;
      try {
        for (let i = 0; i < 4096; i++) queued += writeSync(fd, filler);
        throw new Error('the pty never filled up');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      } finally {
        closeSync(fd);
      }
      const line = new StateLine(join(dir, 'state'), undefined, join(dir, 'agent-side'));
      line.set({ kind: 'enrolled', siteId: 'store-042' });
      line.set({ kind: 'enforcing', generation: 1 });
      await new Promise((r) => setTimeout(r, 300)); // retries meet a console still full
      socat.kill('SIGCONT');
      let seen = '';
      const reader = createReadStream(join(dir, 'tech-side'));
      reader.on('data', (c) => (seen += String(c)));
      reader.on('error', () => undefined);
      await waitFor(() => seen.endsWith('generation 1\r\n'), { timeoutMs: 10_000, what: 'both lines after the backlog' });
      expect(seen.length).toBeGreaterThan(queued); // the filler came first: the lines waited for room
      expect(seen.slice(queued)).toBe('\r\nweft: enrolled as site store-042\r\n\r\nweft: enforcing generation 1\r\n');
      reader.destroy();
    } finally {
      socat.kill('SIGCONT');
      socat.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
