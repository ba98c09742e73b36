import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectCodes, DOC } from './error-codes.ts';

describe('docs/errors.md lists every error code', () => {
  const codes = collectCodes();
  const doc = readFileSync(DOC, 'utf8');
  const listed = new Set([...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));

  it('finds the codes of every part', () => {
    for (const code of ['POLICY_ENDPORT_BEFORE_PORT', 'DATAPATH_BPFFS_PRIVATE_NS', 'STORE_DISK_FULL', 'TUNNEL_BAD_KEY', 'ENROLL_TOKEN_USED']) {
      expect(codes.map((c) => c.code)).toContain(code);
    }
  });

  it('every code in the source is in docs/errors.md (run `npm run docs:errors`)', () => {
    expect(codes.map((c) => c.code).filter((c) => !listed.has(c))).toEqual([]);
  });

  it('every code in docs/errors.md is still in the source', () => {
    const known = new Set(codes.map((c) => c.code));
    expect([...listed].filter((c) => !known.has(c))).toEqual([]);
  });
});
