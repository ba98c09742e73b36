// Run names: the owner pid and tag are embedded so a later run can tell whose leftovers it sweeps.
import { describe, expect, it } from 'vitest';
import { ownerOfNetns, ownerOfRunDir, runDirPrefix, runNames } from './names.ts';

describe('names', () => {
  it('embed the owner pid and keep WireGuard names within 15 characters', () => {
    const n = runNames(4242, 'beef');
    expect(n.netns('site1')).toBe('wft-4242-beef-site1');
    expect(ownerOfNetns(n.netns('site1'))).toEqual({ pid: 4242, tag: 'beef' });
    expect(ownerOfNetns('cni-1234')).toBeUndefined();
    expect(n.wgIfname('s12')).toBe('wftbeefs12');
    expect(ownerOfRunDir(`${runDirPrefix(n)}Xy12Ab`)).toBe(4242);
    expect(ownerOfRunDir('weft-keyfile-abc')).toBeUndefined();
    expect(() => n.wgIfname('much-too-long')).toThrow(/too long/);
  });
});
