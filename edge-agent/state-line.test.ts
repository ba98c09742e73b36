import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatState, readStateLine, StateLine, type AgentState } from './state-line.ts';

describe('state line', () => {
  it.each<[AgentState, string]>([
    [{ kind: 'waiting-network' }, 'waiting for network'],
    [{ kind: 'enrolling', attempt: 3, lastError: 'hub unreachable: ECONNREFUSED' }, 'enrolling (attempt 3, hub unreachable: ECONNREFUSED)'],
    [{ kind: 'enrolled', siteId: 'store-042' }, 'enrolled as site store-042'],
    [{ kind: 'enforcing', generation: 7 }, 'enforcing generation 7'],
    [{ kind: 'enforcing', generation: 7, offline: true }, 'enforcing generation 7 (hub unreachable)'],
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
});
