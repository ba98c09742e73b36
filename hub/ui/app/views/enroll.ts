// Enroll a site (admin): create it with labels and coordinates, then issue its one-time enrollment
// token; the provisioning file a technician drops beside the appliance image is shown to copy.
import { api, errorBox } from '../api.ts';
import { h, replace } from '../dom.ts';

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const term of text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const i = term.indexOf('=');
    out[i < 0 ? term : term.slice(0, i)] = i < 0 ? '' : term.slice(i + 1);
  }
  return out;
}

export function enrollForm(onDone: () => void): HTMLElement {
  const name = h('input', { id: 'en-name', type: 'text', required: true });
  const labels = h('input', { id: 'en-labels', type: 'text', placeholder: 'region=eu,tier=store' });
  const lat = h('input', { id: 'en-lat', type: 'number', step: 'any', value: 0 });
  const lon = h('input', { id: 'en-lon', type: 'number', step: 'any', value: 0 });
  const out = h('div', { 'aria-live': 'polite' });
  return h(
    'details',
    {},
    h('summary', {}, 'Enroll a site (admin)'),
    h(
      'form',
      {
        class: 'stack',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          try {
            const site = await api<{ id: string }>('POST', '/v1/sites', {
              name: name.value,
              labels: parseLabels(labels.value),
              lat: Number(lat.value),
              lon: Number(lon.value),
            });
            const tok = await api<{ provisioning: unknown }>('POST', `/v1/sites/${encodeURIComponent(site.id)}/token`, {});
            replace(
              out,
              h('p', { role: 'status' }, `Site ${site.id} created. Its provisioning file (weft-provision.json), shown once:`),
              h('pre', { class: 'yaml', tabindex: '0' }, JSON.stringify(tok.provisioning, null, 2)),
            );
            onDone();
          } catch (err) {
            replace(out, errorBox(err));
          }
        },
      },
      h('label', { for: 'en-name' }, 'Name'),
      name,
      h('label', { for: 'en-labels' }, 'Site labels'),
      labels,
      h('label', { for: 'en-lat' }, 'Latitude'),
      lat,
      h('label', { for: 'en-lon' }, 'Longitude'),
      lon,
      h('button', { type: 'submit' }, 'Create and issue token'),
      out,
    ),
  );
}
