import { describe, expect, it } from 'vitest';
import { initialPath, stepPath, type PathObservation, type PathStatus } from './mesh-path.ts';

const T0 = 1_000_000;
const obs = (dt: number, rxBytes: number, handshakeAgoMs: number | null, relayUp = true): PathObservation => ({
  nowMs: T0 + dt,
  rxBytes,
  lastHandshakeMs: handshakeAgoMs === null ? null : T0 + dt - handshakeAgoMs,
  relayUp,
});

/** Runs observations from the initial status; returns the state after each. */
function run(steps: PathObservation[]): [string, number][] {
  let s: PathStatus = initialPath(T0);
  return steps.map((o) => {
    s = stepPath(s, o);
    return [s.state, s.sinceMs - T0];
  });
}

describe('stepPath', () => {
  it.each<[string, PathObservation[], [string, number][]]>([
    ['nothing yet, hub up: relayed from the first packet', [obs(0, 0, null)], [['relayed', 0]]],
    ['nothing yet, hub down: down', [obs(0, 0, null, false)], [['down', 0]]],
    [
      'handshake and bytes: direct',
      [obs(0, 0, null), obs(1000, 148, 500)],
      [
        ['relayed', 0],
        ['direct', 1000],
      ],
    ],
    [
      'bytes keep coming: stays direct, since unchanged',
      [obs(0, 100, 10), obs(1000, 200, 1010), obs(2000, 300, 2010)],
      [
        ['direct', 0],
        ['direct', 0],
        ['direct', 0],
      ],
    ],
    [
      'no bytes for 3.5 s: still direct; past it: relayed',
      [obs(0, 100, 10), obs(3500, 100, 3510), obs(3600, 100, 3610)],
      [
        ['direct', 0],
        ['direct', 0],
        ['relayed', 3600],
      ],
    ],
    [
      'bytes again after relay: back to direct',
      [obs(0, 100, 10), obs(5000, 100, 5010), obs(9000, 132, 100)],
      [
        ['direct', 0],
        ['relayed', 5000],
        ['direct', 9000],
      ],
    ],
    ['bytes but a session past 180 s: not direct (the counter moved on a dead session)', [obs(0, 100, 181_000)], [['relayed', 0]]],
    [
      'hub cut off, direct alive: direct (offline link)',
      [obs(0, 100, 10, false), obs(1000, 200, 1010, false)],
      [
        ['direct', 0],
        ['direct', 0],
      ],
    ],
    [
      'hub cut off and direct gone: down',
      [obs(0, 100, 10, false), obs(4000, 100, 4010, false)],
      [
        ['direct', 0],
        ['down', 4000],
      ],
    ],
    [
      'daemon restarted (counter drops, no handshake yet): relayed until a new handshake',
      [obs(0, 5000, 10), obs(1000, 0, null), obs(2000, 92, 300)],
      [
        ['direct', 0],
        ['relayed', 1000],
        ['direct', 2000],
      ],
    ],
  ])('%s', (_name, steps, want) => expect(run(steps)).toEqual(want));
});
