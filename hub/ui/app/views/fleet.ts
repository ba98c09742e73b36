// Fleet: every site with its state, enforced generation, last ack, tunnel handshake age and agent
// version; filtered by text, state and label; a map by coordinates. The list comes as the compact
// fleet view (/v1/sites?view=fleet) in two reads: the first screenful, drawn at once, then the rest.
// Keystrokes are coalesced to one filter per frame; a longer query filters the previous result only.
// Health changes arrive live over /v1/health/events and update the one row they concern.
import { api, errorBox } from '../api.ts';
import { ago, h, replace } from '../dom.ts';
import { countByState, FLEET_STATES, type FleetFilter, type FleetRow, type FleetSite, filterRows, fleetRows, narrows } from '../fleet-model.ts';
import type { View } from '../main.ts';
import { FleetMap } from '../map.ts';
import { VirtualTable } from '../virtual-table.ts';
import { enrollForm } from './enroll.ts';

/** Sites in the first read: more than a screen holds. */
const FIRST_PAGE = 100;

export function fleetView(): View {
  const filter: FleetFilter = { text: '', state: '', label: '' };
  const text = h('input', { id: 'f-text', type: 'search', placeholder: 'name, id or label' });
  const state = h(
    'select',
    { id: 'f-state' },
    h('option', { value: '' }, 'any'),
    FLEET_STATES.map((s) => h('option', { value: s }, s)),
  );
  const label = h('input', { id: 'f-label', type: 'text', placeholder: 'key=value' });
  const count = h('p', { class: 'count', 'aria-live': 'polite', 'data-testid': 'fleet-count' });
  const summary = h('ul', { class: 'states', 'aria-label': 'Sites by state' });
  const table = new VirtualTable<FleetRow>(
    [
      { title: 'Site', cell: (r) => h('a', { href: `#/site/${encodeURIComponent(r.site.id)}` }, r.site.name) },
      { title: 'State', cell: (r) => h('span', { class: `badge s-${r.state.replace(' ', '-')}` }, r.state) },
      { title: 'Labels', cell: (r) => r.labelPairs.join(', ') },
      { title: 'Enforced generation', cell: (r) => String(r.site.health?.appliedGeneration ?? r.site.lastAck?.generation ?? '—') },
      { title: 'Policy version', cell: (r) => String(r.site.policyVersion ?? '—') },
      { title: 'Last ack', cell: (r) => (r.site.lastAck ? `${r.site.lastAck.result} g${r.site.lastAck.generation}, ${ago(r.site.lastAck.receivedAt)}` : '—') },
      { title: 'Handshake', cell: (r) => (r.site.health?.tunnelHandshakeAgeS != null ? `${r.site.health.tunnelHandshakeAgeS}s` : '—') },
      { title: 'Agent', cell: (r) => r.site.health?.agentVersion ?? '—' },
    ],
    'Sites',
  );
  const map = new FleetMap();
  let rows: FleetRow[] = [];
  /** The last filter applied and what it kept: a narrower filter starts from it. Null after a data change. */
  let last: { filter: FleetFilter; shown: readonly FleetRow[] } | null = null;
  /** True between the first screenful and the rest. */
  let partial = false;

  const apply = () => {
    const t0 = performance.now();
    const shown = filterRows(last && narrows(last.filter, filter) ? last.shown : rows, filter);
    last = { filter: { ...filter }, shown };
    table.set(shown);
    map.set(shown);
    count.textContent = `${shown.length} of ${rows.length} sites${partial ? ', loading the rest…' : ''}`;
    performance.measure('fleet-filter', { start: t0 });
  };
  /** Data changed: filter everything again. */
  const reapply = () => {
    last = null;
    apply();
  };
  let frame: number | undefined;
  const applySoon = () => {
    frame ??= requestAnimationFrame(() => {
      frame = undefined;
      apply();
    });
  };
  const summarize = () => {
    const c = countByState(rows);
    replace(
      summary,
      FLEET_STATES.filter((s) => c[s]).map((s) => h('li', {}, h('span', { class: `badge s-${s.replace(' ', '-')}` }, s), ` ${c[s]}`)),
    );
  };
  text.addEventListener('input', () => {
    filter.text = text.value;
    applySoon();
  });
  label.addEventListener('input', () => {
    filter.label = label.value;
    applySoon();
  });
  state.addEventListener('change', () => {
    filter.state = state.value as FleetFilter['state'];
    applySoon();
  });

  const body = h('div', { class: 'fleet' }, h('p', {}, 'Loading sites…'));
  const el = h(
    'section',
    { 'aria-labelledby': 'fleet-title' },
    h('h1', { id: 'fleet-title' }, 'Fleet'),
    h(
      'div',
      { class: 'toolbar', role: 'search' },
      h('label', { for: 'f-text' }, 'Search'),
      text,
      h('label', { for: 'f-state' }, 'State'),
      state,
      h('label', { for: 'f-label' }, 'Label'),
      label,
    ),
    summary,
    count,
    body,
    enrollForm(() => void load()),
  );

  const t0 = performance.now();
  const show = (sites: FleetSite[]) => {
    rows = fleetRows(sites);
    summarize();
    reapply();
  };
  /** Every site, the first screenful first (a tenth of a second on a hub with 10 000 sites). */
  const load = async () => {
    try {
      const first = await api<FleetSite[]>('GET', `/v1/sites?view=fleet&limit=${FIRST_PAGE}`);
      partial = first.length === FIRST_PAGE;
      show(first);
      if (!body.contains(table.el)) {
        replace(body, h('div', { class: 'fleet-grid' }, table.el, h('figure', {}, map.el, h('figcaption', {}, 'Sites by coordinates'))));
        requestAnimationFrame(() => performance.measure('fleet-render', { start: t0 }));
      }
      if (first.length < FIRST_PAGE) return;
      const rest = await api<FleetSite[]>('GET', `/v1/sites?view=fleet&offset=${FIRST_PAGE}`);
      partial = false;
      show([...first, ...rest]);
      requestAnimationFrame(() => performance.measure('fleet-complete', { start: t0 }));
    } catch (e) {
      replace(body, errorBox(e));
    }
  };
  void load();

  // Live health: sites whose health changed are re-read together every half second (one by one when
  // few changed, the whole list when many did, e.g. after a hub restart).
  const changed = new Set<string>();
  let flush: number | undefined;
  const refresh = async () => {
    flush = undefined;
    const ids = [...changed];
    changed.clear();
    if (ids.length > 50) return load();
    const sites = await Promise.all(ids.map((id) => api<FleetSite>('GET', `/v1/sites/${encodeURIComponent(id)}`).catch(() => null)));
    for (const site of sites) {
      const i = site ? rows.findIndex((r) => r.site.id === site.id) : -1;
      if (site && i >= 0) rows[i] = fleetRows([site])[0];
    }
    summarize();
    reapply();
  };
  const events = new EventSource('/v1/health/events');
  events.addEventListener('health', (ev) => {
    changed.add((JSON.parse((ev as MessageEvent).data) as { siteId: string }).siteId);
    flush ??= window.setTimeout(() => void refresh(), 500);
  });
  return {
    el,
    dispose: () => {
      events.close();
      clearTimeout(flush);
      if (frame !== undefined) cancelAnimationFrame(frame);
    },
  };
}
