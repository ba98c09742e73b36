// Everything the appliance adds to the Debian tree, in one place: units, mounts, console, network.
// Read-mostly: the root filesystem is mounted read-only; the agent writes only to the data
// partition (/var/lib/weft), the boot partition (to delete the used token) and tmpfs.
import { stringify } from 'yaml';
import { PART_UUID } from './disk.ts';
import { HOST_AGENT_LABEL } from './k3s-manifests.ts';
import { STATIC_NETWORK_FILE } from './static-network.ts';

export interface ApplianceFile {
  path: string;
  content: string;
  mode: number;
}

export const AGENT_PATH = '/usr/local/bin/weft-agent';
export const DATA_DIR = '/var/lib/weft';
export const ESP_MOUNT = '/boot/efi';
export const PROVISION_FILE = `${ESP_MOUNT}/weft-provision.json`;
/** k3s state, under the data partition. */
export const K3S_DATA = 'k3s';
/**
 * The agent's V8 flags for idle memory, the same as the k3s DaemonSet's (docs/agent.md, "Memory"):
 * a 1 MB young generation and no JIT. Only these two: Node refuses some flags in NODE_OPTIONS.
 */
export const AGENT_NODE_OPTIONS = '--max-semi-space-size=1 --jitless';
/** Where k3s writes its kubeconfig (through the /etc/rancher link); the agent reads the inventory with it. */
export const K3S_KUBECONFIG = '/etc/rancher/k3s/k3s.yaml';
/** The one-line state the agent keeps current; agetty shows it above the login prompt. */
export const STATE_FILE = '/run/weft/state';

export function kernelCmdline(extra: string[] = []): string {
  return [`root=PARTUUID=${PART_UUID.root} ro rootwait console=tty0 console=ttyS0,115200 systemd.show_status=auto loglevel=4`, ...extra].join(' ');
}

export type AgentSettings = Record<string, string | number>;

/**
 * /etc/weft/agent.yaml: where the agent keeps its store, looks for the provisioning file and shows its
 * state. `extra` adds or overrides settings (e.g. `tunnel: off` where WireGuard cannot reach the hub).
 */
export function agentSettings(extra: AgentSettings = {}): AgentSettings {
  return {
    dataDir: DATA_DIR,
    storePath: `${DATA_DIR}/agent.db`,
    provisionFile: PROVISION_FILE,
    stateFile: STATE_FILE,
    // The serial console shows each state change as one readable line.
    console: '/dev/ttyS0',
    // The single binary's addons go to the data partition: /run is mounted noexec, so a shared
    // object there cannot be mapped. Content-hashed, so later boots reuse what the first extracted.
    assetDir: `${DATA_DIR}/assets`,
    ...extra,
  };
}

export function applianceFiles(opts: { hostname: string; withK3s: boolean; agentSettings?: AgentSettings }): ApplianceFile[] {
  const f = (path: string, content: string, mode = 0o644): ApplianceFile => ({ path, content, mode });
  const files: ApplianceFile[] = [
    f('/etc/hostname', `${opts.hostname}\n`),
    f('/etc/hosts', `127.0.0.1 localhost\n127.0.1.1 ${opts.hostname}\n::1 localhost ip6-localhost ip6-loopback\n`),
    // Empty machine-id on a read-only root: systemd makes a transient one at each boot.
    f('/etc/machine-id', ''),
    f(
      '/etc/fstab',
      [
        `PARTUUID=${PART_UUID.root} / ext4 ro,noatime,errors=remount-ro 0 1`,
        // sync: FAT has no journal, and the only write here is the token's removal, which a power cut
        // must not tear (seen under qemu with `flush`: the new directory entry on disk, its FAT chain not).
        `PARTUUID=${PART_UUID.esp} ${ESP_MOUNT} vfat rw,noatime,umask=0077,sync 0 2`,
        `PARTUUID=${PART_UUID.data} ${DATA_DIR} ext4 rw,noatime,nosuid,nodev,data=journal 0 2`,
        'tmpfs /tmp tmpfs rw,nosuid,nodev,mode=1777 0 0',
        'tmpfs /var/tmp tmpfs rw,nosuid,nodev,mode=1777 0 0',
        'tmpfs /var/log tmpfs rw,nosuid,nodev,mode=0755 0 0',
        'bpffs /sys/fs/bpf bpf rw,nosuid,nodev,noexec,mode=0700 0 0',
        '',
      ].join('\n'),
    ),
    f('/etc/systemd/journald.conf.d/volatile.conf', '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n'),
    // DHCP on every wired interface unless the provisioning file sets static addresses (the agent writes them to /run).
    f('/etc/systemd/network/90-dhcp.network', '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\nLinkLocalAddressing=no\n'),
    f(
      '/etc/systemd/system/weft-agent.service',
      [
        '[Unit]',
        'Description=Weft edge agent (enforces policy before the network is up)',
        'DefaultDependencies=no',
        `RequiresMountsFor=${DATA_DIR} ${ESP_MOUNT} /sys/fs/bpf`,
        'After=local-fs.target',
        'Before=network-pre.target sysinit.target',
        'Wants=network-pre.target',
        '',
        '[Service]',
        'Type=simple',
        `ExecStart=${AGENT_PATH} run`,
        // Quoted: systemd splits an unquoted Environment= value at spaces into separate assignments.
        `Environment="NODE_OPTIONS=${AGENT_NODE_OPTIONS}"`,
        'Restart=always',
        'RestartSec=1',
        'RuntimeDirectory=weft',
        'RuntimeDirectoryPreserve=yes',
        'LimitMEMLOCK=infinity',
        '',
        '[Install]',
        'WantedBy=sysinit.target',
        '',
      ].join('\n'),
    ),
    // The provisioning file's static network (static-network.ts), in place before networkd reads its config.
    f(
      '/etc/systemd/system/weft-network.service',
      [
        '[Unit]',
        'Description=Weft static network from the boot partition',
        'DefaultDependencies=no',
        `RequiresMountsFor=${ESP_MOUNT}`,
        `ConditionPathExists=${ESP_MOUNT}/${STATIC_NETWORK_FILE}`,
        'Before=systemd-networkd.service network-pre.target',
        '',
        '[Service]',
        'Type=oneshot',
        // 0644: files on the FAT partition are 0600 (umask=0077) and networkd reads as its own user.
        `ExecStart=/usr/bin/install -D -m 0644 ${ESP_MOUNT}/${STATIC_NETWORK_FILE} /run/systemd/network/10-weft-static.network`,
        '',
        '[Install]',
        'WantedBy=sysinit.target',
        '',
      ].join('\n'),
    ),
    f('/etc/issue', `Weft appliance \\n (\\l)\n\n`),
    f('/etc/weft/agent.yaml', stringify(agentSettings({ ...(opts.withK3s ? { kubeconfig: K3S_KUBECONFIG } : {}), ...opts.agentSettings })), 0o600),
    f('/etc/motd', 'Weft appliance. `weft-agent status` says how this site is doing; `weft-agent doctor` says what to fix.\n'),
  ];
  if (opts.withK3s) {
    files.push(
      f(
        '/etc/systemd/system/k3s.service',
        [
          '[Unit]',
          'Description=k3s (single node)',
          'Wants=network-online.target',
          'After=network-online.target weft-agent.service',
          '',
          '[Service]',
          'Type=notify',
          // The label keeps the agent's DaemonSet off this node: the host-service agent covers it (k3s-manifests.ts).
          `ExecStart=/usr/local/bin/k3s server --write-kubeconfig-mode 0600 --data-dir ${DATA_DIR}/${K3S_DATA} --node-label ${HOST_AGENT_LABEL}=true`,
          'KillMode=process',
          'Delegate=yes',
          'LimitNOFILE=1048576',
          'Restart=always',
          'RestartSec=5',
          '',
          '[Install]',
          'WantedBy=multi-user.target',
          '',
        ].join('\n'),
      ),
    );
  }
  return files;
}

/** Links in the read-only tree. */
export function symlinks(opts: { withK3s: boolean }): { path: string; target: string }[] {
  // agetty prints /etc/issue.d/*.issue above the login prompt: this one is the agent's live state line.
  const links = [{ path: '/etc/issue.d/50-weft.issue', target: STATE_FILE }];
  // k3s writes its kubeconfig and node password under /etc/rancher: on the data partition here.
  if (opts.withK3s) links.push({ path: '/etc/rancher', target: `${DATA_DIR}/${K3S_DATA}/rancher` });
  return links;
}

/** Units masked: logind needs a writable /var and nobody logs in locally but the technician on the console. */
export const MASKED_UNITS = ['systemd-logind.service', 'systemd-timesyncd.service', 'apt-daily.timer', 'apt-daily-upgrade.timer'];

/** Units enabled by symlink (no systemctl inside the build tree). */
export function enabledUnits(opts: { withK3s: boolean }): { unit: string; wantedBy: string; from: string }[] {
  const units = [
    { unit: 'weft-agent.service', wantedBy: 'sysinit.target', from: '/etc/systemd/system/weft-agent.service' },
    { unit: 'weft-network.service', wantedBy: 'sysinit.target', from: '/etc/systemd/system/weft-network.service' },
    { unit: 'systemd-networkd.service', wantedBy: 'multi-user.target', from: '/lib/systemd/system/systemd-networkd.service' },
  ];
  if (opts.withK3s) units.push({ unit: 'k3s.service', wantedBy: 'multi-user.target', from: '/etc/systemd/system/k3s.service' });
  return units;
}
