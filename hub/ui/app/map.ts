// The fleet map: an offline world outline (Natural Earth land from the world-atlas package, turned
// into one SVG path at build time: build/ui/world.json) drawn on a canvas with a dot per site,
// coloured by state. Equirectangular: x = lon + 180, y = 90 - lat. No tile server, nothing fetched
// from outside.
import { h } from './dom.ts';
import type { FleetRow, FleetState } from './fleet-model.ts';

const COLOURS: Record<FleetState, string> = {
  online: '#1a7f37',
  degraded: '#b35900',
  draining: '#6f42c1',
  offline: '#b3261e',
  'not enforcing': '#d4a017',
  pending: '#6e7781',
};

let world: Promise<Path2D | null> | null = null;
function worldPath(): Promise<Path2D | null> {
  world ??= fetch('world.json')
    .then((r) => r.json())
    .then((j: { d: string }) => new Path2D(j.d))
    .catch(() => null);
  return world;
}

export class FleetMap {
  readonly el: HTMLCanvasElement;
  private rows: readonly FleetRow[] = [];
  private land: Path2D | null = null;

  constructor() {
    this.el = h('canvas', { class: 'map', width: 720, height: 360, role: 'img', 'aria-label': 'Map of sites' });
    void worldPath().then((p) => {
      this.land = p;
      this.draw();
    });
  }

  set(rows: readonly FleetRow[]): void {
    this.rows = rows;
    this.el.setAttribute('aria-label', `Map of ${rows.length} sites by coordinates`);
    this.draw();
  }

  private draw(): void {
    const c = this.el.getContext('2d');
    if (!c) return;
    const sx = this.el.width / 360;
    const sy = this.el.height / 180;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.fillStyle = '#eef3f8';
    c.fillRect(0, 0, this.el.width, this.el.height);
    c.setTransform(sx, 0, 0, sy, 0, 0);
    if (this.land) {
      c.fillStyle = '#cdd6df';
      c.fill(this.land);
    }
    // One path per colour: six fills for 10 000 dots instead of 10 000 style changes.
    const dots = new Map<FleetState, Path2D>();
    for (const r of this.rows) {
      let p = dots.get(r.state);
      if (!p) dots.set(r.state, (p = new Path2D()));
      p.rect(r.site.lon + 180 - 1.2, 90 - r.site.lat - 1.2, 2.4, 2.4);
    }
    for (const [state, p] of dots) {
      c.fillStyle = COLOURS[state];
      c.fill(p);
    }
  }
}
