// A table that keeps only the rows in view in the DOM (plus a margin), so 10 000 sites scroll and
// filter as fast as a hundred. Spacer rows above and below keep the scrollbar true; heights are set
// through the CSSOM, which the Content-Security-Policy allows (inline style attributes it does not).
import { h, replace } from './dom.ts';

export interface Column<T> {
  title: string;
  cell: (row: T) => Node | string;
}

export class VirtualTable<T> {
  readonly el: HTMLElement;
  private readonly body = h('tbody');
  private rows: readonly T[] = [];
  private readonly rowHeight = 32;

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
    this.el = h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': caption }, table);
    this.el.addEventListener('scroll', () => this.draw(), { passive: true });
  }

  set(rows: readonly T[]): void {
    this.rows = rows;
    this.draw();
  }

  private draw(): void {
    const view = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.el.scrollTop / this.rowHeight) - 10);
    const last = Math.min(this.rows.length, first + Math.ceil(view / this.rowHeight) + 20);
    const spacer = (px: number) => {
      const tr = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td', { colspan: this.columns.length }));
      tr.style.height = `${px}px`;
      return tr;
    };
    replace(
      this.body,
      first > 0 ? spacer(first * this.rowHeight) : null,
      this.rows.slice(first, last).map((r) =>
        h(
          'tr',
          {},
          this.columns.map((c) => h('td', {}, c.cell(r))),
        ),
      ),
      last < this.rows.length ? spacer((this.rows.length - last) * this.rowHeight) : null,
    );
  }
}
