import { describe, expect, it } from 'vitest';
import { errorCode, errorMessage, formatError, WeftError } from './errors.ts';
import { errno, errnoName, isErrno } from './errno.ts';

class PartError extends WeftError<'PART_BROKEN' | 'PART_MISSING'> {
  override readonly name = 'PartError';
}

describe('WeftError and formatError', () => {
  it.each([
    ['code and hint', new WeftError('X_BAD', 'bad thing', 'do this'), 'bad thing (X_BAD)\n  hint: do this'],
    [
      'a place',
      new WeftError('X_BAD', 'endPort 80 < port 443', undefined, { where: 'db.yaml#2 spec.ports[1]' }),
      'db.yaml#2 spec.ports[1]: endPort 80 < port 443 (X_BAD)',
    ],
    ['a subclass', new PartError('PART_MISSING', 'no part'), 'no part (PART_MISSING)'],
    ['a Node error with a code', Object.assign(new Error('open /x: no such file'), { code: 'ENOENT' }), 'open /x: no such file (ENOENT)'],
    ['a plain Error', new Error('boom'), 'boom'],
    ['a string', 'just text', 'just text'],
    ['an object', { a: 1 }, '{"a":1}'],
    ['undefined', undefined, 'undefined'],
  ])('%s', (_name, e, want) => expect(formatError(e)).toBe(want));

  it('keeps code, hint, cause and where; the subclass is still a WeftError and an Error', () => {
    const cause = new Error('under');
    const e = new PartError('PART_BROKEN', 'top', 'fix it', { cause, where: 'here' });
    expect(e).toBeInstanceOf(WeftError);
    expect(e).toBeInstanceOf(Error);
    expect({ code: e.code, hint: e.hint, cause: e.cause, where: e.where, name: e.name, message: e.message }).toEqual({
      code: 'PART_BROKEN',
      hint: 'fix it',
      cause,
      where: 'here',
      name: 'PartError',
      message: 'top',
    });
    expect(e.format()).toBe('here: top (PART_BROKEN)\n  hint: fix it');
    expect('cause' in new WeftError('X', 'no cause')).toBe(false);
  });

  it('errorMessage and errorCode never need a cast', () => {
    expect(errorMessage(new TypeError('t'))).toBe('t');
    expect(errorMessage(42)).toBe('42');
    expect(errorCode(new WeftError('X_Y', 'm'))).toBe('X_Y');
    expect(errorCode({ code: 95 })).toBeUndefined();
    expect(errorCode(null)).toBeUndefined();
  });
});

describe('errno', () => {
  it('names come from the running system, in either sign', () => {
    expect(errno.ENOENT).toBe(2);
    expect(isErrno(-errno.EOPNOTSUPP, 'EOPNOTSUPP')).toBe(true);
    expect(isErrno(errno.EPERM, 'EOPNOTSUPP')).toBe(false);
    expect(isErrno(undefined, 'EPERM')).toBe(false);
    expect(errnoName(-errno.EINVAL)).toBe('EINVAL');
    expect(errnoName(1_000_000)).toBeUndefined();
  });
});
