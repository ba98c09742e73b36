// The address mapping of a linked site, in nftables: packets from linked sites arrive on the tunnel
// addressed to this site's mapped block and are netmapped 1:1 onto its export prefix (its pods);
// pods' packets to a linked site's mapped block leave with their source netmapped into this site's
// block, so the other side sees addresses that cannot collide with its own (both sites may use
// 10.42.0.0/24) and can tell which site and pod they came from. Replies are conntrack's.
// One table, replaced whole in one `nft -f` transaction.
import { run } from '../../base/index.ts';

export const NAT_TABLE = 'weft_mesh';

export interface NatPlan {
  ifname: string;
  /** This site's export prefix and where it lands; null: nothing is mapped (the table is removed). */
  self: { exportPrefix: string; mappedPrefix: string } | null;
  /** The mapped pool every linked site's block is in: only traffic towards it is source-mapped. */
  pool: string;
}

/** The nft script for a plan: pure, so a test reads it. */
export function natScript(p: NatPlan): string {
  const lines = [`table ip ${NAT_TABLE} {}`, `delete table ip ${NAT_TABLE}`];
  if (!p.self) return `${lines.join('\n')}\n`;
  const { exportPrefix: e, mappedPrefix: m } = p.self;
  lines.push(
    `table ip ${NAT_TABLE} {`,
    '  chain in {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    `    iifname "${p.ifname}" ip daddr ${m} dnat ip prefix to ip daddr map { ${m} : ${e} }`,
    '  }',
    '  chain out {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "${p.ifname}" ip saddr ${e} ip daddr ${p.pool} snat ip prefix to ip saddr map { ${e} : ${m} }`,
    '  }',
    '}',
  );
  return `${lines.join('\n')}\n`;
}

/** The door: applies a plan (`nft -f -`, in the agent's own network namespace unless one is given). */
export type NatApplier = (p: NatPlan) => Promise<void>;

export function nftNat(netns?: string): NatApplier {
  return async (p) => {
    const argv = ['nft', '-f', '-'];
    await run(netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv, { input: natScript(p) });
  };
}
