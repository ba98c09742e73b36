// The fleet view's data, pure: a site's state from what /v1/sites?view=fleet says, and the filter
// (label, state, text) over thousands of sites. No DOM here, so it is tested with plain data.
export type FleetState = 'online' | 'degraded' | 'draining' | 'offline' | 'not enforcing' | 'pending';
export const FLEET_STATES: readonly FleetState[] = ['online', 'degraded', 'draining', 'offline', 'not enforcing', 'pending'];

/** A /v1/sites?view=fleet entry: what the fleet table and map read. */
export interface FleetSite {
  id: string;
  name: string;
  state: 'pending' | 'enrolled' | 'revoked';
  drained: boolean;
  labels: Record<string, string>;
  lat: number;
  lon: number;
  policyVersion: number | null;
  lastAck: { generation: number; result: string; receivedAt: number } | null;
  health: {
    health: 'online' | 'degraded' | 'draining' | 'offline';
    kernelEnforcing: boolean | null;
    appliedGeneration?: number | null;
    tunnelHandshakeAgeS?: number | null;
    agentVersion?: string | null;
  } | null;
}

/** The fields of a full /v1/sites entry the dashboard reads. */
export interface ApiSite extends FleetSite {
  generation: number;
  enrolledAt: number | null;
  lastAck: { generation: number; result: string; code: string | null; receivedAt: number } | null;
  health:
    | (NonNullable<FleetSite['health']> & {
        notEnforcing: { code: string; message?: string } | null;
        reason: string;
        lastHeartbeatAt?: string | null;
      })
    | null;
}

export function fleetState(s: FleetSite): FleetState {
  if (s.state === 'pending') return 'pending';
  const h = s.health;
  if (!h || h.health === 'offline') return 'offline';
  if (h.kernelEnforcing === false) return 'not enforcing';
  if (s.drained || h.health === 'draining') return 'draining';
  return h.health;
}

export interface FleetFilter {
  /** Free text over name, id and labels (case-insensitive). */
  text: string;
  /** '' for any. */
  state: FleetState | '';
  /** `key=value` or `key` (has the label); '' for any. */
  label: string;
}

/** A row prepared once per data change, so filtering 10 000 sites touches only strings. */
export interface FleetRow {
  site: FleetSite;
  state: FleetState;
  haystack: string;
  labelPairs: string[];
}

export function fleetRows(sites: readonly FleetSite[]): FleetRow[] {
  return sites.map((site) => {
    const labelPairs = Object.entries(site.labels).map(([k, v]) => `${k}=${v}`);
    return { site, state: fleetState(site), haystack: `${site.name} ${site.id} ${labelPairs.join(' ')}`.toLowerCase(), labelPairs };
  });
}

/**
 * True when every row `next` keeps is among those `prev` kept (same state and label, and the text
 * only grew around the old text): then filtering the previous result is enough, which makes typing
 * a longer query cost the matches so far, not the fleet.
 */
export function narrows(prev: FleetFilter, next: FleetFilter): boolean {
  return prev.state === next.state && prev.label.trim() === next.label.trim() && next.text.trim().toLowerCase().includes(prev.text.trim().toLowerCase());
}

export function filterRows(rows: readonly FleetRow[], f: FleetFilter): readonly FleetRow[] {
  const text = f.text.trim().toLowerCase();
  const label = f.label.trim();
  // No criteria: the rows as they are, not a copy of 10 000.
  if (!text && !label && !f.state) return rows;
  const hasKey = label && !label.includes('=') ? `${label}=` : null;
  return rows.filter(
    (r) =>
      (!f.state || r.state === f.state) &&
      (!text || r.haystack.includes(text)) &&
      (!label || (hasKey ? r.labelPairs.some((p) => p.startsWith(hasKey)) : r.labelPairs.includes(label))),
  );
}

export function countByState(rows: readonly FleetRow[]): Record<FleetState, number> {
  const c = Object.fromEntries(FLEET_STATES.map((s) => [s, 0])) as Record<FleetState, number>;
  for (const r of rows) c[r.state]++;
  return c;
}
