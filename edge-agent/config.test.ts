import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-wag-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('agent config', () => {
  it('defaults, then the file, then flags; dataDir moves what lives under it', () => {
    const cfg = loadConfig({ file: file('a.yaml', 'dataDir: /srv/weft\nconsole: /dev/ttyS0\nmqttProtocol: 5\n'), flags: { statusPort: '7999' }, env: {} });
    expect(cfg).toMatchObject({
      dataDir: '/srv/weft',
      storePath: '/srv/weft/agent.db',
      stateFile: '/srv/weft/state',
      console: '/dev/ttyS0',
      mqttProtocol: 5,
      statusPort: 7999,
    });
    const plain = loadConfig({ flags: { dataDir: dir }, env: {} });
    expect(plain.mqttProtocol).toBe('auto'); // MQTT 5, or 3.1.1 where the broker refuses 5
    expect(plain.console).toBeUndefined();
    // Fail closed: the kernel datapath unless the in-memory fake is asked for by name.
    expect(plain.datapath).toBe('libbpf');
  });

  it.each([
    ['mqttProtocol: 3\n', 'CONFIG_BAD_VALUE', /b\.yaml: mqttProtocol must be auto, 4 .* or 5, got 3/],
    ['consol: /dev/ttyS0\n', 'CONFIG_UNKNOWN_KEY', /b\.yaml: unknown setting consol/],
    ['statusPort: -1\n', 'CONFIG_BAD_VALUE', /b\.yaml: statusPort must be a non-negative integer/],
    ['datapath: ebpf\n', 'CONFIG_BAD_VALUE', /b\.yaml: datapath must be one of libbpf, memory, got ebpf/],
    ['datapath: auto\n', 'CONFIG_REMOVED_VALUE', /b\.yaml: datapath: auto is no longer accepted: it fell back to the in-memory datapath/],
    ['- a\n- b\n', 'CONFIG_PARSE', /b\.yaml: must be a mapping/],
  ])('%j is refused with %s, naming the file and the key', (text, code, msg) => {
    const p = file('b.yaml', text);
    expect(() => loadConfig({ file: p, env: {} })).toThrow(expect.objectContaining({ code, message: expect.stringMatching(msg) }));
  });
});
