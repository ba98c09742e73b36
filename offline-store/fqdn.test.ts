// The learned-address copy: replaced whole from the kernel's map, read back without what expired,
// kept across a reopen (power loss: WAL, synchronous=FULL).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from './index.ts';
import { manualClock, tempDirs } from './testing/tmp.ts';

const tmp = tempDirs('store-fqdn');
afterAll(() => tmp.cleanup());

describe('learned FQDN addresses', () => {
  it('replaces, reads back the unexpired ones, survives a reopen', () => {
    const clock = manualClock();
    const path = join(tmp.make(), 'agent.db');
    const s = openStore(path, { clock: clock.now });
    const t = clock.now();
    s.fqdn.replaceAll([
      { addr: '203.0.113.1', pattern: 'api.example.com', expiresAt: t + 60_000 },
      { addr: '203.0.113.1', pattern: '*.cdn.test', expiresAt: t + 5_000 },
      { addr: '2001:db8::1', pattern: '*.cdn.test', expiresAt: t + 1_000 },
    ]);
    expect(s.fqdn.count()).toBe(3);
    clock.advance(2_000);
    expect(s.fqdn.unexpired().map((e) => `${e.addr} ${e.pattern}`)).toEqual(['203.0.113.1 *.cdn.test', '203.0.113.1 api.example.com']);
    s.close();
    const again = openStore(path, { clock: clock.now });
    expect(again.fqdn.unexpired()).toHaveLength(2);
    again.fqdn.replaceAll([{ addr: '203.0.113.9', pattern: 'api.example.com', expiresAt: clock.now() + 1 }]);
    expect(again.fqdn.unexpired()).toEqual([{ addr: '203.0.113.9', pattern: 'api.example.com', expiresAt: clock.now() + 1 }]);
    again.close();
  });
});
