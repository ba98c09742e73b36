import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.ts';

const spec = { booleans: ['json', 'follow'], values: ['file', 'data-dir'] };

describe('parseArgs', () => {
  it('reads commands, values and booleans', () => {
    expect(parseArgs(['enroll', '--file', 'p.json', '--json', '--data-dir=/x'], spec)).toEqual({
      command: 'enroll',
      positional: [],
      flags: { file: 'p.json', json: true, 'data-dir': '/x' },
    });
  });
  it.each([
    [['status', '--bogus'], /unknown option --bogus/],
    [['enroll', '--file'], /--file needs a value/],
    [['status', '--json=1'], /takes no value/],
  ])('%j is a usage error', (argv, msg) => expect(() => parseArgs(argv, spec)).toThrow(msg));
});
