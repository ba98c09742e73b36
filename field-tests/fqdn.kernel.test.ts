// FQDN egress survives the agent and the hub (issue 18): pod web resolves and connects every 100 ms to
// an allowed name (and every 500 ms to a wildcard one) while its agent is kill -9'd 100 times with the
// hub unreachable: every allowed connection succeeds, a name not allowed is refused every time; then
// the allowed name moves and the new address is followed, the old one denied after its TTL. The
// scenario is field-tests/lib/fqdn-scenario.ts (bench:fqdn runs it too and reports the numbers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelSkipReason } from '../datapath/testing/index.ts';
import { exec } from './lib/exec.ts';
import { runFqdnScenario, type FqdnRunResult } from './lib/fqdn-scenario.ts';
import { Harness } from './lib/harness.ts';

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, bpffs, WireGuard)';
  if ((await exec(undefined, ['wireguard-go', '--version'])).code !== 0) return 'wireguard-go is not installed (npm run setup installs it)';
  if ((await exec(undefined, ['knotd', '--version'])).code !== 0) return 'knotd is not installed (npm run setup installs Debian knot)';
  return kernelSkipReason ?? undefined;
}
const skip = await skipReason();
if (skip) console.warn(`field-tests/fqdn.kernel.test.ts skipped: ${skip}`);

const RESTARTS = Number(process.env.WEFT_FQDN_RESTARTS ?? 100);
const LONG = 900_000;

describe.skipIf(skip)('FQDN egress through 100 agent kill -9s with the hub cut off', () => {
  let h: Harness;
  let r: FqdnRunResult;
  beforeAll(async () => {
    h = await Harness.create({ kind: 'wfq' });
    r = await runFqdnScenario(h, { restarts: RESTARTS, log: (m) => console.log(`fqdn: ${m}`) });
    console.log(JSON.stringify(r));
  }, LONG);
  afterAll(async () => h?.cleanup(), LONG);

  it('0 failed allowed connections, the name not allowed refused every time', () => {
    expect(r.restarts).toBe(RESTARTS);
    expect(r.allowedAttempts).toBeGreaterThan(RESTARTS);
    // Each denied attempt waits out its 500 ms timeout, so a fast machine makes fewer of them than restarts.
    expect(r.deniedAttempts).toBeGreaterThanOrEqual(RESTARTS / 2);
    expect(r.failures).toEqual([]);
    expect(r.failedAllowed).toBe(0);
    expect(r.passedDenied).toBe(0);
  });

  it('follows an address that changes: the new one at once, the old one denied after its TTL', () => {
    expect(r.addressChange.oldAddressBeforeChange).toBe('connected');
    expect(r.addressChange.newAddressAttempts).toBeGreaterThan(5);
    // Every attempt after knot answers with the new address connects to it.
    expect(r.addressChange.newAddressConnected).toBe(r.addressChange.newAddressAttempts);
    expect(r.addressChange.oldAddressAfterExpiry).toBe('timeout');
  });
});
