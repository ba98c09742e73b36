import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: createLogger({ destination: dest as never, level: 'debug' }) };
}

describe('logger', () => {
  it('redacts tokens, passwords and private keys at any depth it is told', () => {
    const { lines, log } = capture();
    log.info({ token: 'tok-SECRET', broker: { url: 'mqtt://x', password: 'pw-SECRET' }, identity: { privateKey: 'pk-SECRET' } }, 'enrolled');
    const text = lines.join('');
    expect(text).toContain('enrolled');
    expect(text).toContain('mqtt://x');
    expect(text).not.toMatch(/SECRET/);
    expect(text).toContain('[redacted]');
  });
});
