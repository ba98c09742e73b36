// Sign-in: an API token is exchanged for a short-lived HttpOnly session cookie (POST /v1/session);
// the token never stays in the page.
import { api, errorBox } from '../api.ts';
import { h, replace } from '../dom.ts';
import type { Me, View } from '../main.ts';

export function signInView(done: (me: Me) => void): View {
  const token = h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-help' });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    {
      class: 'signin',
      'aria-labelledby': 'signin-title',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const me = await api<Me>('POST', '/v1/session', { token: token.value });
          token.value = '';
          done(me);
        } catch (err) {
          replace(status, errorBox(err));
        }
      },
    },
    h('h1', { id: 'signin-title' }, 'Sign in to Weft'),
    h('label', { for: 'token' }, 'API token'),
    token,
    h(
      'p',
      { id: 'token-help', class: 'hint' },
      'A token from `weft token create` (viewer, operator or admin). The dashboard keeps a session cookie, not the token.',
    ),
    h('button', { type: 'submit' }, 'Sign in'),
    status,
  );
  return { el: h('div', { class: 'center' }, form) };
}
