// A compiled table set that does not fit the configured map limits is an error, never a partial result.
import type { MapLimits, TableSizes } from './tables.ts';

export class CapacityError extends Error {
  override readonly name = 'CapacityError';
  readonly code = 'POLICY_CAPACITY';
  constructor(
    readonly table: keyof MapLimits,
    readonly needed: number,
    readonly limit: number,
  ) {
    super(`the ${table} table needs ${needed} entries but its map holds ${limit}`);
  }

  get hint(): string {
    return `raise the ${this.table} map limit, or reduce what the policies select`;
  }
}

/** Throws for the first table over its limit. `endpointKeys`: IP keys of the endpoint map. */
export function checkCapacity(sizes: TableSizes, endpointKeys: number, limits: MapLimits): void {
  const need: [keyof MapLimits, number][] = [
    ['endpoints', Math.max(sizes.endpoints, endpointKeys)],
    ['ipcache', sizes.ipcache],
    ['sets', sizes.sets],
    ['rules', sizes.rules],
  ];
  for (const [table, n] of need) if (n > limits[table]) throw new CapacityError(table, n, limits[table]);
}
