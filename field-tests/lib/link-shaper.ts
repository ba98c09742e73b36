// Conditions on one WAN link (a port of the WAN bridge): latency and loss, and a full partition.
// Partition and loss are nftables rules in the WAN namespace's bridge table (exact and
// independent of the qdisc). Latency needs tc netem; kernels without sch_netem (like this
// project's CI machine) get HARNESS_NETEM_UNAVAILABLE instead of a silent no-op.
import { HarnessError } from './errors.ts';
import { exec, mustExec } from './exec.ts';

export interface LinkConditions {
  /** One-way delay added in each direction, milliseconds (needs netem). */
  latencyMs?: number;
  /** Percentage of frames dropped in each direction, 0..100. */
  lossPct?: number;
}

const TABLE = 'weft_wan';

/** Creates the bridge filter table in the WAN namespace; call once per WAN. */
export async function initWanFilter(wanNs: string): Promise<void> {
  await mustExec(wanNs, ['nft', '-f', '-'], {
    input: `table bridge ${TABLE} {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n  }\n}\n`,
  });
}

export async function netemAvailable(ns: string, dev: string): Promise<boolean> {
  const r = await exec(ns, ['tc', 'qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'netem', 'delay', '0ms']);
  if (r.code !== 0) return false;
  await exec(ns, ['tc', 'qdisc', 'del', 'dev', dev, 'root']);
  return true;
}

/** The conditions of one bridge port. */
export class WanLink {
  private partitioned = false;
  private conditions: LinkConditions = {};
  private readonly chain: string;

  constructor(
    readonly wanNs: string,
    /** The port's name in the WAN namespace. */
    readonly port: string,
    /** The other end of the link: the participant's namespace and uplink device. */
    readonly peer: { ns: string; dev: string },
    private readonly hasNetem: boolean,
  ) {
    this.chain = `port_${port.replace(/[^A-Za-z0-9_]/g, '_')}`;
  }

  async init(): Promise<void> {
    const c = this.chain;
    await mustExec(this.wanNs, ['nft', '-f', '-'], {
      input: `add chain bridge ${TABLE} ${c}\nadd rule bridge ${TABLE} forward iifname "${this.port}" jump ${c}\nadd rule bridge ${TABLE} forward oifname "${this.port}" jump ${c}\n`,
    });
  }

  /** Cuts the link both ways: nothing crosses until heal(). */
  async partition(): Promise<void> {
    this.partitioned = true;
    await this.apply();
  }

  async heal(): Promise<void> {
    this.partitioned = false;
    await this.apply();
  }

  /** Sets latency and loss (replacing earlier ones); {} clears them. */
  async set(conditions: LinkConditions): Promise<void> {
    const loss = conditions.lossPct ?? 0;
    if (!(loss >= 0 && loss <= 100)) throw new HarnessError('HARNESS_BAD_OPTIONS', `lossPct ${loss} is not a percentage`, 'use 0..100');
    if ((conditions.latencyMs ?? 0) > 0 && !this.hasNetem) {
      throw new HarnessError(
        'HARNESS_NETEM_UNAVAILABLE',
        `cannot add ${conditions.latencyMs} ms latency to ${this.port}: the kernel has no sch_netem`,
        'use a kernel with CONFIG_NET_SCH_NETEM; partitions and loss work without it',
      );
    }
    this.conditions = conditions;
    await this.apply();
  }

  get state(): { partitioned: boolean } & LinkConditions {
    return { partitioned: this.partitioned, ...this.conditions };
  }

  private async apply(): Promise<void> {
    const c = this.chain;
    const loss = this.conditions.lossPct ?? 0;
    const rules = [`flush chain bridge ${TABLE} ${c}`];
    if (this.partitioned || loss >= 100) rules.push(`add rule bridge ${TABLE} ${c} drop`);
    else if (loss > 0) rules.push(`add rule bridge ${TABLE} ${c} numgen random mod 10000 < ${Math.round(loss * 100)} drop`);
    await mustExec(this.wanNs, ['nft', '-f', '-'], { input: `${rules.join('\n')}\n` });
    if (this.hasNetem) {
      // A qdisc delays what leaves a device: the WAN port covers WAN -> participant, the
      // participant's uplink covers participant -> WAN.
      const delay = `${this.conditions.latencyMs ?? 0}ms`;
      await mustExec(this.wanNs, ['tc', 'qdisc', 'replace', 'dev', this.port, 'root', 'netem', 'delay', delay]);
      await mustExec(this.peer.ns, ['tc', 'qdisc', 'replace', 'dev', this.peer.dev, 'root', 'netem', 'delay', delay]);
    }
  }
}
