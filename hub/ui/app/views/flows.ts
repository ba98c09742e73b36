// Flows, Hubble-like: verdict events filtered by site, verdict, namespace/pod and policy, each with
// the policy, rule and generation that decided it; "follow" re-queries for newer events every 2 s
// (the flows API has no stream yet).
import { api, errorBox } from '../api.ts';
import { h, replace } from '../dom.ts';
import type { View } from '../main.ts';

export interface FlowRow {
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
  let timer: number | undefined;

  const load = async () => {
    const q = new URLSearchParams({ limit: '500' });
    if (site.value) q.set('site', site.value.trim());
    if (verdict.value) q.set('verdict', verdict.value);
    if (policy.value) q.set('policy', policy.value.trim());
    try {
      const rows = await api<FlowRow[]>('GET', `/v1/flows?${q}`);
      const p = pod.value.trim();
      replace(out, flowTable(p ? rows.filter((r) => r.endpoint.includes(p) || r.src.includes(p) || r.dst.includes(p)) : rows));
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
  follow.addEventListener('change', () => {
    clearInterval(timer);
    if (follow.checked) timer = window.setInterval(() => void load(), 2000);
  });
  void load();
  return { el: h('section', { 'aria-labelledby': 'flows-title' }, h('h1', { id: 'flows-title' }, 'Flows'), form, out), dispose: () => clearInterval(timer) };
}
