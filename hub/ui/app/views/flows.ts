// Flows, Hubble-like: verdict events filtered by site, verdict, namespace/pod and policy, each with
// the policy, rule and generation that decided it; "follow" streams newer events from the hub
// (GET /v1/flows/events, server-sent events, the same filters) on top of the list, from the newest
// event shown, so none is missed between the list and the stream.
import { api, errorBox } from '../api.ts';
import { h, replace } from '../dom.ts';
import type { View } from '../main.ts';

export interface FlowRow {
  id: number;
  siteId: string;
  at: string;
  generation: number;
  endpoint: string;
  direction: string;
  verdict: string;
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  policy: string | null;
  rule: string | null;
  count: number;
}

const LIMIT = 500;

const PROTO: Record<number, string> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP', 1: 'ICMP' };

export function flowTable(rows: FlowRow[]): HTMLElement {
  if (!rows.length) return h('p', {}, 'No flows match.');
  const cols = ['Time', 'Site', 'Verdict', 'Pod', 'Dir', 'Source', 'Destination', 'Policy', 'Rule', 'Generation'];
  return h(
    'table',
    { class: 'grid flows', 'data-testid': 'flows' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        cols.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((f) =>
        h(
          'tr',
          {},
          h('td', {}, h('time', { datetime: f.at }, new Date(f.at).toLocaleTimeString())),
          h('td', {}, h('a', { href: `#/site/${encodeURIComponent(f.siteId)}` }, f.siteId)),
          h('td', {}, h('span', { class: `badge v-${f.verdict}` }, f.verdict)),
          h('td', {}, f.endpoint),
          h('td', {}, f.direction),
          h('td', {}, `${f.src}:${f.sport}`),
          h('td', {}, `${f.dst}:${f.dport}/${PROTO[f.proto] ?? f.proto}`),
          h('td', {}, f.policy ?? 'default'),
          h('td', {}, f.rule ?? '—'),
          h('td', {}, String(f.generation)),
        ),
      ),
    ),
  );
}

export function flowsView(initial: URLSearchParams): View {
  const field = (id: string, label: string, input: HTMLInputElement | HTMLSelectElement) => {
    input.id = id;
    input.value = initial.get(id) ?? '';
    return [h('label', { for: id }, label), input];
  };
  const site = h('input', { type: 'text' });
  const verdict = h(
    'select',
    {},
    h('option', { value: '' }, 'any'),
    ['allow', 'deny', 'audit'].map((v) => h('option', { value: v }, v)),
  );
  const pod = h('input', { type: 'text', placeholder: 'namespace/pod' });
  const policy = h('input', { type: 'text', placeholder: 'Kind/namespace/name' });
  const follow = h('input', { id: 'follow', type: 'checkbox' });
  const out = h('div', { 'aria-live': 'polite' });
  /** Newest first, at most LIMIT. */
  let rows: FlowRow[] = [];
  let stream: EventSource | null = null;

  const filters = () => {
    const q = new URLSearchParams();
    if (site.value) q.set('site', site.value.trim());
    if (verdict.value) q.set('verdict', verdict.value);
    if (policy.value) q.set('policy', policy.value.trim());
    return q;
  };
  const draw = () => {
    const p = pod.value.trim();
    replace(out, flowTable(p ? rows.filter((r) => r.endpoint.includes(p) || r.src.includes(p) || r.dst.includes(p)) : rows));
  };
  const stop = () => {
    stream?.close();
    stream = null;
  };
  const followFrom = (after: number) => {
    stop();
    const q = filters();
    q.set('after', String(after));
    const es = new EventSource(`/v1/flows/events?${q}`);
    es.addEventListener('flows', (ev) => {
      const batch = JSON.parse((ev as MessageEvent).data) as FlowRow[];
      rows = [...batch.reverse(), ...rows].slice(0, LIMIT);
      draw();
    });
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED)
        replace(out, h('div', { class: 'error', role: 'alert' }, 'The flow stream closed; untick and tick Follow to reconnect.'));
    });
    stream = es;
  };
  const load = async () => {
    const q = filters();
    q.set('limit', String(LIMIT));
    try {
      rows = await api<FlowRow[]>('GET', `/v1/flows?${q}`);
      draw();
      if (follow.checked) followFrom(rows.reduce((m, r) => Math.max(m, r.id), 0));
    } catch (e) {
      replace(out, errorBox(e));
    }
  };
  const form = h(
    'form',
    {
      class: 'toolbar',
      role: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void load();
      },
    },
    field('site', 'Site', site),
    field('verdict', 'Verdict', verdict),
    field('pod', 'Namespace/pod', pod),
    field('policy', 'Policy', policy),
    h('button', { type: 'submit' }, 'Filter'),
    h('label', { for: 'follow' }, follow, ' Follow'),
  );
  follow.addEventListener('change', () => (follow.checked ? void load() : stop()));
  void load();
  return { el: h('section', { 'aria-labelledby': 'flows-title' }, h('h1', { id: 'flows-title' }, 'Flows'), form, out), dispose: stop };
}
