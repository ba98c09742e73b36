// Site: its facts, a timeline (enrollment, state changes, acks, rejections: GET /v1/sites/:id/timeline),
// recent flows, and the routing view: where users of each of its client networks go now (GET /v1/route).
import { api, errorBox } from '../api.ts';
import { h, replace } from '../dom.ts';
import { type ApiSite, fleetState } from '../fleet-model.ts';
import type { View } from '../main.ts';
import { type FlowRow, flowTable } from './flows.ts';

interface SiteDetail extends ApiSite {
  clientCidrs: string[];
  services: { name: string; addresses: string[]; url?: string }[];
  overlayAddresses: string[];
  capacity: number;
}

interface TimelineEntry {
  at: string;
  kind: string;
  summary: string;
}

interface Route {
  service: string;
  chosen: { siteId: string }[];
}

function facts(s: SiteDetail): HTMLElement {
  const row = (k: string, v: string) => [h('dt', {}, k), h('dd', {}, v)];
  return h(
    'dl',
    { class: 'facts' },
    row('State', fleetState(s)),
    row('Id', s.id),
    row(
      'Labels',
      Object.entries(s.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '—',
    ),
    row('Coordinates', `${s.lat}, ${s.lon}`),
    row('Policy version', String(s.policyVersion ?? '—')),
    row('Generation', String(s.generation)),
    row('Overlay', s.overlayAddresses.join(', ') || '—'),
    row('Client networks', s.clientCidrs.join(', ') || '—'),
    row('Services', s.services.map((x) => x.name).join(', ') || '—'),
    row('Health reason', s.health?.reason ?? '—'),
  );
}

export function siteView(id: string): View {
  const el = h('section', { 'aria-labelledby': 'site-title' }, h('h1', { id: 'site-title' }, 'Site ', id));
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'Timeline' });
  const flows = h('div');
  const routing = h('div');
  api<SiteDetail>('GET', `/v1/sites/${encodeURIComponent(id)}`)
    .then(async (s) => {
      el.append(facts(s), h('h2', {}, 'Timeline'), timeline, h('h2', {}, 'Recent flows'), flows, h('h2', {}, 'Routing: who goes here now'), routing);
      api<TimelineEntry[]>('GET', `/v1/sites/${encodeURIComponent(id)}/timeline`)
        .then((t) =>
          replace(
            timeline,
            t.map((e) => h('li', {}, h('time', { datetime: e.at }, new Date(e.at).toLocaleString()), ' ', h('strong', {}, e.kind), ' ', e.summary)),
          ),
        )
        .catch((e) => replace(timeline, errorBox(e)));
      api<FlowRow[]>('GET', `/v1/flows?site=${encodeURIComponent(id)}&limit=50`)
        .then((f) => replace(flows, flowTable(f)))
        .catch((e) => replace(flows, errorBox(e)));
      const probes = s.services.flatMap((svc) => s.clientCidrs.map((cidr) => ({ svc: svc.name, cidr, ip: cidr.split('/')[0] })));
      if (!probes.length) return replace(routing, h('p', {}, 'This site declares no services or client networks.'));
      const answers = await Promise.all(
        probes.map((p) =>
          api<Route>('GET', `/v1/route?service=${encodeURIComponent(p.svc)}&ip=${encodeURIComponent(p.ip)}`)
            .then((r) => ({ ...p, to: r.chosen.map((c) => c.siteId).join(', ') || 'nowhere' }))
            .catch(() => ({ ...p, to: 'unknown' })),
        ),
      );
      replace(
        routing,
        h(
          'table',
          { class: 'grid' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Service'), h('th', { scope: 'col' }, 'Users from'), h('th', { scope: 'col' }, 'Go to now'))),
          h(
            'tbody',
            {},
            answers.map((a) => h('tr', {}, h('td', {}, a.svc), h('td', {}, a.cidr), h('td', {}, a.to.split(', ').includes(id) ? `${a.to} (here)` : a.to))),
          ),
        ),
      );
    })
    .catch((e) => el.append(errorBox(e)));
  return { el };
}
