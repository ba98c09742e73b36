// What-if: before a rollout, the new version evaluated against the flows recorded at the targeted sites
// over a window (POST /v1/policies/what-if, the same answer as `weft policy what-if`): flows it would
// deny that are allowed today, and the reverse, grouped by policy and rule.
import { api, errorBox } from '../api.ts';
import { h, replace } from '../dom.ts';
import type { View } from '../main.ts';

interface Change {
  siteId: string;
  endpoint: string;
  direction: 'ingress' | 'egress';
  peer: string;
  port: number;
  protocol: string;
  count: number;
  todayPolicy: string;
  nextPolicy: string;
}
interface Group {
  policy: string;
  rule: string;
  flows: Change[];
}
export interface WhatIfAnswer {
  version: number;
  sites: number;
  flows: number;
  newlyDenied: Group[];
  newlyAllowed: Group[];
}

function groups(title: string, gs: Group[], testid: string): HTMLElement {
  return h(
    'section',
    { 'aria-label': title, 'data-testid': testid },
    h('h2', {}, `${title} (${gs.reduce((n, g) => n + g.flows.length, 0)})`),
    gs.length
      ? gs.map((g) =>
          h(
            'details',
            { open: true },
            h('summary', {}, h('strong', {}, g.policy), ' rule ', g.rule, ` — ${g.flows.length} flows`),
            h(
              'ul',
              {},
              g.flows.map((f) =>
                h(
                  'li',
                  {},
                  `${f.siteId}: `,
                  f.direction === 'ingress' ? `${f.peer} → ${f.endpoint}:${f.port}/${f.protocol}` : `${f.endpoint} → ${f.peer}:${f.port}/${f.protocol}`,
                  ` (seen ${f.count}×; today ${f.todayPolicy}, then ${f.nextPolicy})`,
                ),
              ),
            ),
          ),
        )
      : h('p', {}, 'None.'),
  );
}

export function whatIfView(): View {
  const version = h('input', { id: 'wi-version', type: 'number', min: 0, required: true });
  const selector = h('input', { id: 'wi-selector', type: 'text', placeholder: 'region=eu' });
  const windowS = h('input', { id: 'wi-window', type: 'number', min: 60, value: 86400 });
  const out = h('div', { 'aria-live': 'polite' });
  api<{ version: number }[]>('GET', '/v1/policies?limit=1')
    .then((v) => {
      if (v[0] && !version.value) version.value = String(v[0].version);
    })
    .catch(() => undefined);
  const form = h(
    'form',
    {
      class: 'stack',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        replace(out, h('p', {}, 'Evaluating…'));
        try {
          const a = await api<WhatIfAnswer>('POST', '/v1/policies/what-if', {
            version: Number(version.value),
            selector: selector.value.trim(),
            windowS: Number(windowS.value),
          });
          replace(
            out,
            h('p', { role: 'status' }, `Version ${a.version} against ${a.flows} recorded flows at ${a.sites} sites.`),
            groups('Would be denied, allowed today', a.newlyDenied, 'newly-denied'),
            groups('Would be allowed, denied today', a.newlyAllowed, 'newly-allowed'),
          );
        } catch (err) {
          replace(out, errorBox(err));
        }
      },
    },
    h('label', { for: 'wi-version' }, 'Policy version'),
    version,
    h('label', { for: 'wi-selector' }, 'Sites (label selector, empty: all)'),
    selector,
    h('label', { for: 'wi-window' }, 'Window of recorded flows (s)'),
    windowS,
    h('button', { type: 'submit' }, 'Evaluate'),
  );
  return { el: h('section', { 'aria-labelledby': 'wi-title' }, h('h1', { id: 'wi-title' }, 'What-if'), form, out) };
}
