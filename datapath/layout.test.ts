// Cilium's alignchecker for Weft: every struct datapath/layout.ts declares must match the BTF of the
// built objects (size, each field's offset and size, no hidden padding), every map of the
// objects must have the key and value the TypeScript side reads and writes (MAP_LAYOUTS), and the
// drop reasons must have the numbers of enum weft_drop_reason. The rule key's prefix lengths,
// named once in policy/tables.ts, must be the bit offsets of that key's fields.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULE_KEY_BITS, RULE_PREFIX_ANY_PORT, RULE_PREFIX_ANY_PROTO } from '../policy/index.ts';
import { artifactPaths } from './artifacts.ts';
import { DROP_REASONS, DROP_SLOTS, dropReasonEnumerator } from './drop-reasons.ts';
import { LAYOUTS, MAP_LAYOUTS } from './layout.ts';

interface BtfType {
  kind: string;
  name: string;
  size?: number;
  typeId?: number;
  nrElems?: number;
  members: { name: string; typeId: number; bitsOffset: number }[];
  /** ENUM: enumerator -> value */
  values: Record<string, number>;
}

function parseBtf(text: string): Map<number, BtfType> {
  const types = new Map<number, BtfType>();
  let cur: BtfType | undefined;
  for (const line of text.split('\n')) {
    const head = /^\[(\d+)\] (\w+) '([^']*)'(.*)$/.exec(line);
    if (head) {
      const attrs = head[4];
      const num = (k: string) => {
        const m = new RegExp(`\\b${k}=(\\d+)`).exec(attrs);
        return m ? Number(m[1]) : undefined;
      };
      cur = { kind: head[2], name: head[3], size: num('size'), typeId: num('type_id'), nrElems: num('nr_elems'), members: [], values: {} };
      types.set(Number(head[1]), cur);
      continue;
    }
    const member = /^\s+'([^']*)' type_id=(\d+) bits_offset=(\d+)/.exec(line);
    if (member && cur) cur.members.push({ name: member[1], typeId: Number(member[2]), bitsOffset: Number(member[3]) });
    const enumerator = /^\s+'([^']*)' val=(-?\d+)$/.exec(line);
    if (enumerator && cur?.kind === 'ENUM') cur.values[enumerator[1]] = Number(enumerator[2]);
  }
  return types;
}

function sizeOf(types: Map<number, BtfType>, id: number): number {
  const t = types.get(id)!;
  if (t.kind === 'TYPEDEF' || t.kind === 'CONST' || t.kind === 'VOLATILE') return sizeOf(types, t.typeId!);
  if (t.kind === 'ARRAY') return t.nrElems! * sizeOf(types, t.typeId!);
  return t.size!;
}

/** The struct name (or 'u32' for a plain 4-byte integer) a map definition's key or value points to. */
function pointee(types: Map<number, BtfType>, def: BtfType, member: 'key' | 'value'): string | null {
  const m = def.members.find((x) => x.name === member);
  if (!m) return null;
  const target = types.get(m.typeId)!.typeId!;
  const t = types.get(target)!;
  if (t.kind === 'STRUCT') return t.name;
  return sizeOf(types, target) === 4 ? 'u32' : `${t.kind} ${t.name}`;
}

const dump = (obj: string) => parseBtf(execFileSync('bpftool', ['btf', 'dump', 'file', obj, 'format', 'raw'], { encoding: 'utf8', maxBuffer: 64 << 20 }));

const objects = Object.values(artifactPaths().objects);
const missing = objects.find((o) => !existsSync(o));
if (missing) console.warn(`skipping the layout check: ${missing} is not built (npm run build:bpf)`);

describe('the rule key prefix lengths of policy/tables.ts', () => {
  // prefixlen counts from `set` (the slot's bits are added by the encoder): any protocol stops
  // before `proto`, any port before `port`, and the whole key is RULE_KEY_BITS.
  const bitsTo = (f: keyof typeof LAYOUTS.weft_rule_key.fields) => 8 * (LAYOUTS.weft_rule_key.fields[f][0] - LAYOUTS.weft_rule_key.fields.set[0]);
  it.each([
    ['RULE_PREFIX_ANY_PROTO', RULE_PREFIX_ANY_PROTO, bitsTo('proto')],
    ['RULE_PREFIX_ANY_PORT', RULE_PREFIX_ANY_PORT, bitsTo('port')],
    ['RULE_KEY_BITS', RULE_KEY_BITS, 8 * (LAYOUTS.weft_rule_key.size - LAYOUTS.weft_rule_key.fields.set[0])],
  ])('%s is the bit offset in weft_rule_key', (_name, constant, bits) => expect(constant).toBe(bits));
});

describe.skipIf(missing)('C and TypeScript struct layouts agree', () => {
  it.each(objects)('%s', (obj) => {
    const types = dump(obj);
    const structs = new Map([...types.values()].filter((t) => t.kind === 'STRUCT').map((t) => [t.name, t]));
    for (const [name, layout] of Object.entries(LAYOUTS)) {
      const c = structs.get(name);
      expect(c, `struct ${name} is not in the BTF of ${obj}`).toBeDefined();
      const cFields = Object.fromEntries(c!.members.map((m) => [m.name, [m.bitsOffset / 8, sizeOf(types, m.typeId)]]));
      expect({ name, size: c!.size, fields: cFields }).toEqual({ name, size: layout.size, fields: layout.fields });
      const covered = Object.values(layout.fields).reduce((n, [, s]) => n + s, 0);
      expect(covered, `${name} has implicit padding: declare it`).toBe(layout.size);
    }
  });

  it.each(objects)('the drop reasons of %s are enum weft_drop_reason', (obj) => {
    const e = [...dump(obj).values()].find((t) => t.kind === 'ENUM' && t.name === 'weft_drop_reason');
    expect(e, 'enum weft_drop_reason is not in the BTF (drop() keeps it there)').toBeDefined();
    const want = Object.fromEntries(Object.entries(DROP_REASONS).map(([r, v]) => [dropReasonEnumerator(r as keyof typeof DROP_REASONS), v]));
    expect(e!.values).toEqual({ ...want, WEFT_DROP__MAX: DROP_SLOTS });
  });

  it.each(objects)('every map of %s has the key and value TypeScript uses', (obj) => {
    const types = dump(obj);
    // Map definitions: global variables of an anonymous struct with `type` and `max_entries`.
    const maps = new Map<string, BtfType>();
    for (const t of types.values()) {
      const def = t.kind === 'VAR' ? types.get(t.typeId!) : undefined;
      if (def?.kind === 'STRUCT' && def.members.some((m) => m.name === 'max_entries')) maps.set(t.name, def);
    }
    expect([...maps.keys()].sort()).toEqual(Object.keys(MAP_LAYOUTS).sort());
    for (const [name, want] of Object.entries(MAP_LAYOUTS)) {
      const def = maps.get(name)!;
      expect({ name, key: pointee(types, def, 'key'), value: pointee(types, def, 'value') }).toEqual({ name, key: want.key, value: want.value });
    }
  });
});
