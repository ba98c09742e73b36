// A table that keeps only the rows in view in the DOM (plus a margin), so 10 000 sites scroll and
// filter as fast as a hundred. Spacer rows above and below keep the scrollbar true; heights are set
// through the CSSOM, which the Content-Security-Policy allows (inline style attributes it does not).
// Drawing never reads layout: the scroll offset comes from scroll events and the height from a
// ResizeObserver, so a filter's DOM writes are not followed by a forced synchronous layout. Rows
// already built are reused (a filter that brings a row back does not rebuild its cells).
import { h, replace } from './dom.ts';

export interface Column<T> {
  title: string;
  cell: (row: T) => Node | string;
}

/** Built rows kept for reuse; past this many the cache starts again (scrolling all of 10 000 sites). */
const ROW_CACHE = 1000;
const ROW_HEIGHT = 32;
/** Rows drawn beyond the visible ones, above and below. */
const MARGIN = 10;

export class VirtualTable<T extends object> {
  readonly el: HTMLElement;
  private readonly body = h('tbody');
  private rows: readonly T[] = [];
  private scrollTop = 0;
  /** Until the ResizeObserver reports: a typical viewport. */
  private viewHeight = 600;
  private readonly built = new Map<T, HTMLTableRowElement>();
  private readonly top: HTMLTableRowElement;
  private readonly bottom: HTMLTableRowElement;
  /** The rows in the DOM now (a copy: callers may change their array in place), and whether the bottom spacer is. */
  private drawn: { first: number; slice: T[]; bottom: boolean } | null = null;

  constructor(
    private readonly columns: Column<T>[],
    caption: string,
  ) {
    const table = h(
      'table',
      { class: 'grid' },
      h('caption', { class: 'sr-only' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h('th', { scope: 'col' }, c.title)),
        ),
      ),
      this.body,
    );
    const spacer = () => h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td', { colspan: columns.length }));
    this.top = spacer();
    this.bottom = spacer();
    this.el = h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': caption }, table);
    this.el.addEventListener(
      'scroll',
      () => {
        this.scrollTop = this.el.scrollTop;
        this.draw();
      },
      { passive: true },
    );
    new ResizeObserver(([entry]) => {
      const height = entry?.contentRect.height;
      if (height && height !== this.viewHeight) {
        this.viewHeight = height;
        this.draw();
      }
    }).observe(this.el);
  }

  set(rows: readonly T[]): void {
    this.rows = rows;
    // A shorter list than the scroll offset: the browser clamps it and reports a scroll; draw from the top of what is left until then.
    this.scrollTop = Math.min(this.scrollTop, Math.max(0, rows.length * ROW_HEIGHT - this.viewHeight));
    this.draw();
  }

  private row(r: T): HTMLTableRowElement {
    let tr = this.built.get(r);
    if (!tr) {
      if (this.built.size >= ROW_CACHE) this.built.clear();
      tr = h(
        'tr',
        {},
        this.columns.map((c) => h('td', {}, c.cell(r))),
      );
      this.built.set(r, tr);
    }
    return tr;
  }

  private draw(): void {
    const first = Math.max(0, Math.floor(this.scrollTop / ROW_HEIGHT) - MARGIN);
    const last = Math.min(this.rows.length, first + Math.ceil(this.viewHeight / ROW_HEIGHT) + 2 * MARGIN);
    const bottom = last < this.rows.length;
    this.setSpacers(first, last);
    const d = this.drawn;
    if (d && d.first === first && d.bottom === bottom && sameRows(d.slice, this.rows, first, last)) return;
    const slice = this.rows.slice(first, last);
    replace(
      this.body,
      first > 0 ? this.top : null,
      slice.map((r) => this.row(r)),
      bottom ? this.bottom : null,
    );
    this.drawn = { first, slice, bottom };
  }

  private setSpacers(first: number, last: number): void {
    this.top.style.height = `${first * ROW_HEIGHT}px`;
    this.bottom.style.height = `${(this.rows.length - last) * ROW_HEIGHT}px`;
  }
}

function sameRows<T>(drawn: readonly T[], rows: readonly T[], first: number, last: number): boolean {
  if (drawn.length !== last - first) return false;
  for (let i = first; i < last; i++) if (drawn[i - first] !== rows[i]) return false;
  return true;
}
