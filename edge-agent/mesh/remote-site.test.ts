// Flow events at a site name the linked site at the other end (its mapped block).
import { describe, expect, it } from 'vitest';

describe('flows name the remote site', () => {
  it('resolveVerdict names the linked site whose mapped block holds the other end', async () => {
    const { resolveVerdict } = await import('../verdicts.ts');
    const { formatFlow } = await import('../flows.ts');
    const siteOf = (ip: string) => (ip.startsWith('100.64.2.') ? 'site-a' : null);
    const ev = {
      generation: 1,
      endpointId: 1,
      direction: 'ingress' as const,
      verdict: 'allow' as const,
      proto: 6,
      src: '100.64.2.7',
      dst: '10.42.0.9',
      sport: 40000,
      dport: 5432,
      ruleId: 0,
    };
    const r = resolveVerdict(ev as never, null, '2026-01-01T00:00:00Z', siteOf);
    expect(r.remoteSite).toBe('site-a');
    expect(formatFlow(r)).toContain('100.64.2.7:40000 (site site-a) ->');
    expect(resolveVerdict({ ...ev, src: '10.42.0.5' } as never, null, 'x', siteOf).remoteSite).toBeUndefined();
  });
});
