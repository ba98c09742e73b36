// Names of everything a run creates. Every name starts with the run's prefix, which embeds the
// pid of the test process, so a later run can find and remove what a crashed run left behind.
import { randomBytes } from 'node:crypto';

/** Name prefixes: field tests (wft), the `npm start` demo (wst), the FQDN field test and bench (wfq); each sweeps the others' dead runs too. */
export const RUN_KINDS = ['wft', 'wst', 'wfq'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** Network namespaces: <kind>-<pid>-<tag>-<role>. */
const NETNS_RE = /^(?:wft|wst|wfq)-(\d+)-([0-9a-f]{4})-/;

export interface RunNames {
  /** wft (field tests, the default) or wst (npm start). */
  kind: RunKind;
  pid: number;
  /** 4 hex digits, unique per run. */
  tag: string;
  /** Every namespace name starts with this. */
  prefix: string;
  netns(role: string): string;
  /**
   * A machine-unique interface name for a WireGuard link (its UAPI socket path is global):
   * <kind><tag><role>, at most 15 characters.
   */
  wgIfname(role: string): string;
  /** A bpffs pin directory for an agent of this run: /sys/fs/bpf/<prefix><role>. */
  pinRoot(role: string): string;
}

export const BPFFS = '/sys/fs/bpf';

export function runNames(pid = process.pid, tag = randomBytes(2).toString('hex'), kind: RunKind = 'wft'): RunNames {
  const prefix = `${kind}-${pid}-${tag}-`;
  return {
    kind,
    pid,
    tag,
    prefix,
    netns: (role) => `${prefix}${role}`,
    wgIfname: (role) => {
      const name = `${kind}${tag}${role}`;
      if (name.length > 15) throw new Error(`WireGuard role "${role}" is too long for an interface name (max ${15 - 7} characters)`);
      return name;
    },
    pinRoot: (role) => `${BPFFS}/${prefix}${role}`,
  };
}

/** Run directories in the temp dir: weft-field-<pid>-<tag>-<random>. */
const RUN_DIR_RE = /^weft-field-(\d+)-[0-9a-f]{4}-/;

export function runDirPrefix(n: RunNames): string {
  return `weft-field-${n.pid}-${n.tag}-`;
}

/** The owner pid of a run directory, or undefined for foreign names. */
export function ownerOfRunDir(name: string): number | undefined {
  const m = RUN_DIR_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The owner pid of a namespace or pin directory created by some run, or undefined for foreign names. */
export function ownerOfNetns(name: string): { pid: number; tag: string } | undefined {
  const m = NETNS_RE.exec(name);
  return m ? { pid: Number(m[1]), tag: m[2] } : undefined;
}

/** UAPI socket files of our WireGuard links: <kind><tag>*.sock. */
export function isOurWgSocket(file: string, tag?: string, kind: RunKind = 'wft'): boolean {
  return tag ? file.startsWith(`${kind}${tag}`) && file.endsWith('.sock') : /^(?:wft|wst|wfq)[0-9a-f]{4}.*\.sock$/.test(file);
}
