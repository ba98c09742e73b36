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
  /** What is in the DOM now: redrawing the same slice does nothing. */
  private drawn: { first: number; last: number; rows: readonly T[] } | null = null;

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
    const d = this.drawn;
    const sameSpacers = d !== null && d.last < d.rows.length === last < this.rows.length;
    if (d && sameSpacers && d.first === first && d.last === last && (d.rows === this.rows || sameSlice(d.rows, this.rows, first, last))) {
      this.setSpacers(first, last);
      this.drawn = { first, last, rows: this.rows };
      return;
    }
    this.setSpacers(first, last);
    replace(
      this.body,
      first > 0 ? this.top : null,
      this.rows.slice(first, last).map((r) => this.row(r)),
      last < this.rows.length ? this.bottom : null,
    );
    this.drawn = { first, last, rows: this.rows };
  }

  private setSpacers(first: number, last: number): void {
    this.top.style.height = `${first * ROW_HEIGHT}px`;
    this.bottom.style.height = `${(this.rows.length - last) * ROW_HEIGHT}px`;
  }
}

function sameSlice<T>(a: readonly T[], b: readonly T[], first: number, last: number): boolean {
  for (let i = first; i < last; i++) if (a[i] !== b[i]) return false;
  return true;
}
