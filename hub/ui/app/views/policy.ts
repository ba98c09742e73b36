// Policy: versions with author and message, the YAML of one, a diff between two, and a push form
// whose refusal shows every validation error with its file and path (400 POLICY_INVALID as the API says it).
import { api, errorBox } from '../api.ts';
import { h, replace } from '../dom.ts';
import type { Me, View } from '../main.ts';

interface VersionSummary {
  version: number;
  author: string;
  message: string;
  createdAt: number;
}

export function policyView(_me: Me): View {
  const list = h('div');
  const yaml = h('pre', { class: 'yaml', tabindex: '0', 'aria-label': 'Policy YAML' });
  const from = h('select', { id: 'diff-from' });
  const to = h('select', { id: 'diff-to' });
  const diff = h('pre', { class: 'diff', tabindex: '0', 'aria-label': 'Diff' });
  const fileName = h('input', { id: 'push-name', type: 'text', value: 'policies.yaml', required: true });
  const content = h('textarea', { id: 'push-content', rows: 10, required: true, spellcheck: 'false' });
  const message = h('input', { id: 'push-message', type: 'text', required: true });
  const pushOut = h('div', { 'aria-live': 'polite' });

  const show = (v: number) =>
    api<{ yaml: string }>('GET', `/v1/policies/${v}`)
      .then((p) => {
        yaml.textContent = p.yaml;
      })
      .catch((e) => replace(yaml, errorBox(e)));

  const load = () =>
    api<VersionSummary[]>('GET', '/v1/policies?limit=200')
      .then((vs) => {
        replace(
          list,
          h(
            'table',
            { class: 'grid' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Version', 'Author', 'Message', 'Pushed', ''].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h(
              'tbody',
              {},
              vs.map((v) =>
                h(
                  'tr',
                  {},
                  h('td', {}, String(v.version)),
                  h('td', {}, v.author),
                  h('td', {}, v.message),
                  h('td', {}, new Date(v.createdAt).toLocaleString()),
                  h('td', {}, h('button', { type: 'button', onclick: () => void show(v.version) }, `Show YAML of v${v.version}`)),
                ),
              ),
            ),
          ),
        );
        const opts = [h('option', { value: '0' }, '0 (empty)'), ...vs.map((v) => h('option', { value: String(v.version) }, `v${v.version} ${v.message}`))];
        replace(from, ...opts.map((o) => o.cloneNode(true)));
        replace(to, ...opts);
        if (vs[1]) from.value = String(vs[1].version);
        if (vs[0]) {
          to.value = String(vs[0].version);
          void show(vs[0].version);
        }
      })
      .catch((e) => replace(list, errorBox(e)));

  const diffForm = h(
    'form',
    {
      class: 'toolbar',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const d = await api<{ lines: string[] }>('GET', `/v1/policies/diff?from=${from.value}&to=${to.value}`);
          replace(
            diff,
            d.lines.map((l) => h('span', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : '' }, `${l}\n`)),
          );
        } catch (err) {
          replace(diff, errorBox(err));
        }
      },
    },
    h('label', { for: 'diff-from' }, 'From'),
    from,
    h('label', { for: 'diff-to' }, 'To'),
    to,
    h('button', { type: 'submit' }, 'Diff'),
  );

  const pushForm = h(
    'form',
    {
      class: 'stack',
      'aria-labelledby': 'push-title',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const v = await api<{ version: number }>('POST', '/v1/policies', {
            files: [{ name: fileName.value, content: content.value }],
            message: message.value,
          });
          replace(pushOut, h('p', { class: 'ok', role: 'status' }, `Pushed version ${v.version}.`));
          void load();
        } catch (err) {
          replace(pushOut, errorBox(err));
        }
      },
    },
    h('h2', { id: 'push-title' }, 'Push a new version'),
    h('label', { for: 'push-name' }, 'File name'),
    fileName,
    h('label', { for: 'push-content' }, 'YAML'),
    content,
    h('label', { for: 'push-message' }, 'Message'),
    message,
    h('button', { type: 'submit' }, 'Push'),
    pushOut,
  );
  void load();
  return {
    el: h(
      'section',
      { 'aria-labelledby': 'policy-title' },
      h('h1', { id: 'policy-title' }, 'Policy'),
      h('h2', {}, 'Versions'),
      list,
      h('h2', {}, 'YAML'),
      yaml,
      h('h2', {}, 'Diff'),
      diffForm,
      diff,
      pushForm,
    ),
  };
}
