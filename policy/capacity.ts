// A compiled table set that does not fit the configured map limits is an error, never a partial result.
import { WeftError } from '../base/pure.ts';
import type { MapLimits, TableSizes } from './tables.ts';

export class CapacityError extends WeftError<'POLICY_CAPACITY'> {
  override readonly name = 'CapacityError';
  constructor(
    /** fqdnPatterns: distinct domainNames patterns, bounded by the FQDN peer encoding (tables.ts). */
    readonly table: keyof MapLimits | 'fqdnPatterns',
    readonly needed: number,
    readonly limit: number,
  ) {
    super(
      'POLICY_CAPACITY',
      `the ${table} table needs ${needed} entries but its map holds ${limit}`,
      `raise the ${table} map limit, or reduce what the policies select`,
    );
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
