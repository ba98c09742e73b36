// The dashboard's shell: sign-in, the navigation, and a hash router that mounts one view at a time
// (each view returns its element and a dispose that closes its streams).
import { api, ApiError, errorBox } from './api.ts';
import { h, replace } from './dom.ts';
import { fleetView } from './views/fleet.ts';
import { flowsView } from './views/flows.ts';
import { policyView } from './views/policy.ts';
import { rolloutsView, rolloutView } from './views/rollouts.ts';
import { signInView } from './views/signin.ts';
import { siteView } from './views/site.ts';
import { whatIfView } from './views/whatif.ts';

export interface Me {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
}

export interface View {
  el: HTMLElement;
  dispose?: () => void;
}

const NAV: [string, string][] = [
  ['#/fleet', 'Fleet'],
  ['#/policy', 'Policy'],
  ['#/rollouts', 'Rollouts'],
  ['#/whatif', 'What-if'],
  ['#/flows', 'Flows'],
];

function route(me: Me, hash: string): View {
  const [, page = 'fleet', arg] = hash.split('/');
  const id = arg ? decodeURIComponent(arg) : undefined;
  switch (page) {
    case 'site':
      return siteView(id ?? '');
    case 'policy':
      return policyView(me);
    case 'rollouts':
      return id ? rolloutView(me, Number(id)) : rolloutsView(me);
    case 'whatif':
      return whatIfView();
    case 'flows':
      return flowsView(new URLSearchParams(hash.split('?')[1] ?? ''));
    default:
      return fleetView();
  }
}

function shell(root: HTMLElement, me: Me): void {
  const main = h('main', { id: 'main', tabindex: '-1' });
  const links = NAV.map(([href, label]) => h('a', { href }, label));
  const signOut = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        await api('DELETE', '/v1/session').catch(() => undefined);
        location.hash = '';
        location.reload();
      },
    },
    'Sign out',
  );
  replace(
    root,
    h('a', { class: 'skip', href: '#main', onclick: (e: Event) => (e.preventDefault(), main.focus()) }, 'Skip to content'),
    h(
      'header',
      {},
      h('span', { class: 'brand' }, 'Weft ops'),
      h('nav', { 'aria-label': 'Main' }, links),
      h('span', { class: 'me', 'data-testid': 'me' }, me.name, ' · ', me.role),
      signOut,
    ),
    main,
  );
  let current: View | null = null;
  const show = () => {
    current?.dispose?.();
    const hash = location.hash || '#/fleet';
    for (const a of links)
      a.getAttribute('href') === `#/${hash.split('/')[1]?.split('?')[0]}` ? a.setAttribute('aria-current', 'page') : a.removeAttribute('aria-current');
    try {
      current = route(me, hash.split('?')[0] + (hash.includes('?') ? `?${hash.split('?')[1]}` : ''));
      replace(main, current.el);
    } catch (e) {
      current = null;
      replace(main, errorBox(e));
    }
  };
  window.addEventListener('hashchange', show);
  show();
}

async function boot(): Promise<void> {
  const root = document.getElementById('app')!;
  window.addEventListener('weft:signed-out', () => signIn(root));
  try {
    shell(root, await api<Me>('GET', '/v1/whoami'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) signIn(root);
    else replace(root, errorBox(e));
  }
}

function signIn(root: HTMLElement): void {
  replace(root, signInView((me) => shell(root, me)).el);
}

void boot();
