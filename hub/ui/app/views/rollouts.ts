// Rollouts: the list and a start form (version, selector, canary sites, stages), and one rollout's
// live progress per stage and site over server-sent events (GET /v1/rollouts/:id/events), with pause,
// resume and roll back (confirmed in a dialog).
import { api, errorBox } from '../api.ts';
import { ago, h, replace } from '../dom.ts';
import type { Me, View } from '../main.ts';

interface Rollout {
  id: number;
  kind: string;
  policyVersion: number;
  state: string;
  stage: number;
  reason: string | null;
  createdBy: string;
  createdAt: number;
  selector: { matchLabels: Record<string, string> };
}
interface Stage {
  index: number;
  name: string;
  total: number;
  applied: number;
  rejected: number;
  pending: number;
}
interface SiteRow {
  siteId: string;
  stage: number;
  generation: number | null;
  result: string | null;
  code: string | null;
  reason: string | null;
  ackedAt: number | null;
}
interface Progress {
  rollout: Rollout;
  stages: Stage[];
  sites: SiteRow[];
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function rolloutsView(_me: Me): View {
  const version = h('input', { id: 'ro-version', type: 'number', min: 0, required: true });
  const selector = h('input', { id: 'ro-selector', type: 'text', placeholder: 'region=eu,tier=store' });
  const canary = h('input', { id: 'ro-canary', type: 'text', placeholder: 'site ids, comma separated' });
  const percents = h('input', { id: 'ro-percents', type: 'text', placeholder: '10, 50' });
  const audit = h('input', { id: 'ro-audit', type: 'number', min: 0, value: 0 });
  const out = h('div', { 'aria-live': 'polite' });
  const table = h('div');
  api<{ version: number }[]>('GET', '/v1/policies?limit=1')
    .then((v) => {
      if (v[0] && !version.value) version.value = String(v[0].version);
    })
    .catch(() => undefined);
  api<Rollout[]>('GET', '/v1/rollouts?limit=50')
    .then((rs) =>
      replace(
        table,
        h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Rollout', 'Kind', 'Version', 'State', 'By', 'Started'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            rs.map((r) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: `#/rollouts/${r.id}` }, `#${r.id}`)),
                h('td', {}, r.kind),
                h('td', {}, String(r.policyVersion)),
                h('td', {}, h('span', { class: `badge r-${r.state}` }, r.state)),
                h('td', {}, r.createdBy),
                h('td', {}, ago(r.createdAt)),
              ),
            ),
          ),
        ),
      ),
    )
    .catch((e) => replace(table, errorBox(e)));
  const form = h(
    'form',
    {
      class: 'stack',
      'aria-labelledby': 'start-title',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const body = {
            version: Number(version.value),
            selector: selector.value.trim(),
            canary: list(canary.value),
            percents: list(percents.value).map(Number),
            auditWindowS: Number(audit.value || 0),
          };
          const st = await api<{ rollout: Rollout }>('POST', '/v1/rollouts', body);
          location.hash = `#/rollouts/${st.rollout.id}`;
        } catch (err) {
          replace(out, errorBox(err));
        }
      },
    },
    h('h2', { id: 'start-title' }, 'Start a rollout'),
    h('label', { for: 'ro-version' }, 'Policy version'),
    version,
    h('label', { for: 'ro-selector' }, 'Sites (label selector, empty: all)'),
    selector,
    h('label', { for: 'ro-canary' }, 'Canary sites'),
    canary,
    h('label', { for: 'ro-percents' }, 'Stages (cumulative %, then all)'),
    percents,
    h('label', { for: 'ro-audit' }, 'Audit window per stage (s)'),
    audit,
    h('div', {}, h('button', { type: 'submit' }, 'Start rollout'), ' ', h('a', { href: '#/whatif' }, 'What-if first')),
    out,
  );
  return { el: h('section', { 'aria-labelledby': 'rollouts-title' }, h('h1', { id: 'rollouts-title' }, 'Rollouts'), form, h('h2', {}, 'Recent'), table) };
}

/** A confirmation dialog: resolves true when the user confirms. */
function confirmDialog(title: string, text: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    const d = h('dialog', { 'aria-labelledby': 'dlg-title', 'aria-describedby': 'dlg-text' });
    const close = (ok: boolean) => {
      d.close();
      d.remove();
      resolve(ok);
    };
    d.append(
      h('h2', { id: 'dlg-title' }, title),
      h('p', { id: 'dlg-text' }, text),
      h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, action),
      ' ',
      h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
    );
    d.addEventListener('cancel', () => close(false));
    document.body.append(d);
    d.showModal();
  });
}

export function rolloutView(_me: Me, id: number): View {
  const head = h('div', { class: 'rollout-head', 'aria-live': 'polite' });
  const stagesEl = h('div', { class: 'stages' });
  const out = h('div', { 'aria-live': 'assertive' });
  const sites = new Map<string, SiteRow>();
  let last: Progress | null = null;

  const act = async (path: string, body?: unknown) => {
    try {
      replace(out);
      const r = await api<{ rollout: Rollout }>('POST', path, body ?? {});
      if (r.rollout.id !== id) location.hash = `#/rollouts/${r.rollout.id}`;
    } catch (err) {
      replace(out, errorBox(err));
    }
  };
  const buttons = h(
    'div',
    { class: 'actions' },
    h('button', { type: 'button', id: 'pause', onclick: () => void act(`/v1/rollouts/${id}/pause`) }, 'Pause'),
    h('button', { type: 'button', id: 'resume', onclick: () => void act(`/v1/rollouts/${id}/resume`) }, 'Resume'),
    h(
      'button',
      {
        type: 'button',
        id: 'rollback',
        class: 'danger',
        onclick: async () => {
          const n = sites.size;
          if (await confirmDialog(`Roll back rollout #${id}?`, `Every site it reached (up to ${n}) gets its previous policy as a new generation.`, 'Roll back'))
            await act('/v1/rollouts/rollback', { rollout: id });
        },
      },
      'Roll back',
    ),
  );

  const draw = () => {
    if (!last) return;
    const r = last.rollout;
    replace(
      head,
      h(
        'p',
        {},
        h('span', { class: `badge r-${r.state}`, 'data-testid': 'rollout-state' }, r.state),
        ` ${r.kind} of policy version ${r.policyVersion} by ${r.createdBy}`,
      ),
      r.reason ? h('p', { class: 'reason' }, r.reason) : null,
    );
    replace(
      stagesEl,
      last.stages.map((st) => {
        const rows = [...sites.values()].filter((s) => s.stage === st.index);
        return h(
          'section',
          { class: 'stage', 'aria-label': `Stage ${st.name}`, 'data-stage': st.name },
          h('h2', {}, `Stage ${st.index + 1}: ${st.name}`, st.index === r.stage && (r.state === 'running' || r.state === 'paused') ? ' (current)' : ''),
          h('progress', { max: st.total || 1, value: st.applied, 'aria-label': `${st.name}: ${st.applied} of ${st.total} applied` }),
          h('p', { class: 'counts' }, `${st.applied} applied, ${st.rejected} rejected, ${st.pending} pending of ${st.total}`),
          h(
            'table',
            { class: 'grid' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Site', 'Generation', 'Result', 'Code', 'Reason', 'Acked'].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h(
              'tbody',
              {},
              rows
                .slice(0, 200)
                .map((s) =>
                  h(
                    'tr',
                    { 'data-site': s.siteId },
                    h('td', {}, h('a', { href: `#/site/${encodeURIComponent(s.siteId)}` }, s.siteId)),
                    h('td', {}, String(s.generation ?? '—')),
                    h('td', { class: 'result' }, s.result ?? 'pending'),
                    h('td', {}, s.code ?? ''),
                    h('td', {}, s.reason ?? ''),
                    h('td', {}, s.ackedAt ? ago(s.ackedAt) : ''),
                  ),
                ),
            ),
          ),
          rows.length > 200 ? h('p', {}, `… and ${rows.length - 200} more sites`) : null,
        );
      }),
    );
  };

  const events = new EventSource(`/v1/rollouts/${id}/events`);
  events.addEventListener('progress', (ev) => {
    const p = JSON.parse((ev as MessageEvent).data) as Progress;
    for (const s of p.sites) sites.set(s.siteId, s);
    last = p;
    draw();
  });
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED) replace(out, h('div', { class: 'error', role: 'alert' }, 'The progress stream closed; reload to reconnect.'));
  });
  return {
    el: h('section', { 'aria-labelledby': 'rollout-title' }, h('h1', { id: 'rollout-title' }, `Rollout #${id}`), head, buttons, out, stagesEl),
    dispose: () => events.close(),
  };
}
