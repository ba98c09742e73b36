// The dashboard's door to the hub: the same public /v1 API as the CLI, authenticated by the session
// cookie (same origin), with the API's coded errors passed through as they are.
import { h } from './dom.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    if (res.status === 401 && path !== '/v1/session') window.dispatchEvent(new Event('weft:signed-out'));
    throw new ApiError(res.status, json?.code ?? 'HTTP_' + res.status, json?.message ?? res.statusText, json?.details);
  }
  return json as T;
}

interface DetailError {
  file?: string;
  path?: string;
  message?: string;
  code?: string;
  doc?: number;
}

/** An API error as the API said it: code, message, and each detailed error with its file and path. */
export function errorBox(e: unknown): HTMLElement {
  if (!(e instanceof ApiError)) return h('div', { class: 'error', role: 'alert' }, String(e instanceof Error ? e.message : e));
  const list = (e.details as { errors?: DetailError[] } | undefined)?.errors;
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('strong', { class: 'code' }, e.code),
    ' ',
    e.message,
    Array.isArray(list)
      ? h(
          'ul',
          {},
          list.map((d) => h('li', {}, [d.file, d.path].filter(Boolean).join(' '), d.file || d.path ? ': ' : '', d.message ?? '', d.code ? ` (${d.code})` : '')),
        )
      : null,
  );
}
