// Key/value configuration, values stored as JSON text.
import { StoreError } from './errors.ts';
import type { StoreContext } from './context.ts';
import type { ConfigStore, JsonValue } from './types.ts';

export function configStore(ctx: StoreContext): ConfigStore {
  const { db } = ctx;
  return {
    get<T extends JsonValue = JsonValue>(key: string): T | undefined {
      const row = ctx.read('config.get', () => db.prepare('SELECT value FROM config WHERE key = ?').get(key)) as { value: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.value) as T);
    },
    set(key, value) {
      if (key.length === 0) throw new StoreError('STORE_BAD_INPUT', 'config.set: empty key');
      const text = JSON.stringify(value);
      if (text === undefined) throw new StoreError('STORE_BAD_INPUT', `config.set ${key}: value is not JSON`);
      ctx.write(`config.set ${key}`, () =>
        db.prepare('INSERT INTO config (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, text),
      );
    },
    delete(key) {
      return ctx.write(`config.delete ${key}`, () => db.prepare('DELETE FROM config WHERE key = ?').run(key).changes > 0);
    },
    all() {
      const rows = ctx.read('config.all', () => db.prepare('SELECT key, value FROM config ORDER BY key').all()) as { key: string; value: string }[];
      return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as JsonValue]));
    },
  };
}
