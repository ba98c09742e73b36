// What the image adds to Debian, checked without building: the agent accepts the settings file the
// image writes (an unknown key would stop it at every boot), and the k3s mode wires k3s to the agent.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../edge-agent/index.ts';
import { AGENT_NODE_OPTIONS, applianceFiles, enabledUnits, K3S_KUBECONFIG, symlinks } from './appliance-files.ts';

function agentConfigOf(opts: Parameters<typeof applianceFiles>[0]) {
  const file = applianceFiles(opts).find((f) => f.path === '/etc/weft/agent.yaml')!;
  expect(file.mode).toBe(0o600);
  const dir = mkdtempSync(join(tmpdir(), 'wimg-files-'));
  try {
    writeFileSync(join(dir, 'agent.yaml'), file.content);
    return loadConfig({ file: join(dir, 'agent.yaml'), env: {} });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('appliance files', () => {
  it('writes an agent.yaml the agent loads: store on the data partition, file on the boot partition, state on the console', () => {
    const c = agentConfigOf({ hostname: 'a', withK3s: false });
    expect(c).toMatchObject({
      dataDir: '/var/lib/weft',
      storePath: '/var/lib/weft/agent.db',
      provisionFile: '/boot/efi/weft-provision.json',
      stateFile: '/run/weft/state',
      console: '/dev/ttyS0',
    });
    // Native addons cannot be mapped from /run (noexec): they go to the data partition.
    expect(c.assetDir.startsWith('/var/lib/weft/')).toBe(true);
    expect(c.kubeconfig).toBeUndefined();
  });

  it('lets the build override settings (the qemu test turns the tunnel off)', () => {
    expect(agentConfigOf({ hostname: 'a', withK3s: false, agentSettings: { tunnel: 'off', logLevel: 'debug' } })).toMatchObject({
      tunnel: 'off',
      logLevel: 'debug',
    });
  });

  it('starts the agent before the network, restarting it always', () => {
    const unit = applianceFiles({ hostname: 'a', withK3s: false }).find((f) => f.path === '/etc/systemd/system/weft-agent.service')!.content;
    expect(unit).toMatch(/^Before=network-pre\.target/m);
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^DefaultDependencies=no$/m);
    expect(enabledUnits({ withK3s: false }).map((u) => u.unit)).toEqual(['weft-agent.service', 'weft-network.service', 'systemd-networkd.service']);
  });

  it('runs the agent with the same memory flags as the k3s DaemonSet, which Node accepts from NODE_OPTIONS', () => {
    const unit = applianceFiles({ hostname: 'a', withK3s: false }).find((f) => f.path === '/etc/systemd/system/weft-agent.service')!.content;
    const env = unit.split('\n').filter((l) => l.startsWith('Environment='));
    // One quoted assignment: unquoted, systemd would set NODE_OPTIONS=--max-semi-space-size=1 and drop `--jitless`.
    expect(env).toEqual(['Environment="NODE_OPTIONS=--max-semi-space-size=1 --jitless"']);
    const daemonset = readFileSync(fileURLToPath(new URL('../edge-agent/deploy/k3s/daemonset.yaml', import.meta.url)), 'utf8');
    expect(/- name: NODE_OPTIONS\n\s+value: (.*)\n/.exec(daemonset)?.[1]).toBe(AGENT_NODE_OPTIONS);
    const node = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: AGENT_NODE_OPTIONS }, encoding: 'utf8' });
    expect(node.stderr).not.toMatch(/is not allowed in NODE_OPTIONS|bad option/);
    expect(node.status).toBe(0);
  });

  it('puts a static network from the boot partition in place before networkd starts', () => {
    const unit = applianceFiles({ hostname: 'a', withK3s: false }).find((f) => f.path === '/etc/systemd/system/weft-network.service')!.content;
    expect(unit).toMatch(/^Before=systemd-networkd\.service/m);
    expect(unit).toMatch(/^ConditionPathExists=\/boot\/efi\/weft-static\.network$/m);
    // Readable by networkd's own user: a plain cp would keep the FAT mount's 0600.
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/install -D -m 0644 \/boot\/efi\/weft-static\.network \/run\/systemd\/network\/10-weft-static\.network$/m);
  });

  it('with k3s: its unit labels the node for the host agent, its kubeconfig is on the data partition and the agent reads it', () => {
    const files = applianceFiles({ hostname: 'a', withK3s: true });
    expect(files.find((f) => f.path === '/etc/systemd/system/k3s.service')!.content).toMatch(
      /--data-dir \/var\/lib\/weft\/k3s --node-label weft\.dev\/host-agent=true/,
    );
    expect(agentConfigOf({ hostname: 'a', withK3s: true }).kubeconfig).toBe(K3S_KUBECONFIG);
    expect(symlinks({ withK3s: true })).toContainEqual({ path: '/etc/rancher', target: '/var/lib/weft/k3s/rancher' });
    expect(enabledUnits({ withK3s: true }).map((u) => u.unit)).toContain('k3s.service');
  });
});
