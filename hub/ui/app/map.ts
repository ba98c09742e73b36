// The fleet map: an offline world outline (Natural Earth land from the world-atlas package, turned
// into one SVG path at build time: build/ui/world.json) drawn on a canvas with a dot per site,
// coloured by state. Equirectangular: x = lon + 180, y = 90 - lat. No tile server, nothing fetched
// from outside.
// Redrawn on every filter, so it must cost little at 10 000 sites: the land is rasterised once and
// kept as pixels; a redraw copies them and writes each dot's pixels into one buffer, then puts it on
// the canvas in one call (no path to rasterise, no layout).
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
const SEA = '#eef3f8';
const LAND = '#cdd6df';
/** A dot's side, in pixels. */
const DOT = 5;

let world: Promise<Path2D | null> | null = null;
function worldPath(): Promise<Path2D | null> {
  world ??= fetch('world.json')
    .then((r) => r.json())
    .then((j: { d: string }) => new Path2D(j.d))
    .catch(() => null);
  return world;
}

/** '#rrggbb' as one pixel of a Uint32Array over RGBA bytes, in this machine's byte order. */
function pixel(hex: string): number {
  const bytes = new Uint8ClampedArray([Number.parseInt(hex.slice(1, 3), 16), Number.parseInt(hex.slice(3, 5), 16), Number.parseInt(hex.slice(5, 7), 16), 255]);
  return new Uint32Array(bytes.buffer)[0];
}
const PIXELS = Object.fromEntries(Object.entries(COLOURS).map(([k, v]) => [k, pixel(v)])) as Record<FleetState, number>;

export class FleetMap {
  readonly el: HTMLCanvasElement;
  private rows: readonly FleetRow[] = [];
  /** The sea and land, rasterised once per land outline. */
  private background: Uint32Array | null = null;
  private land: Path2D | null = null;
  private frame: ImageData | null = null;

  constructor() {
    this.el = h('canvas', { class: 'map', width: 720, height: 360, role: 'img', 'aria-label': 'Map of sites' });
    void worldPath().then((p) => {
      this.land = p;
      this.background = null;
      this.draw();
    });
  }

  set(rows: readonly FleetRow[]): void {
    this.rows = rows;
    this.el.setAttribute('aria-label', `Map of ${rows.length} sites by coordinates`);
    this.draw();
  }

  private draw(): void {
    // Pixels are written by hand: a canvas kept in memory (not on the GPU) puts them without a readback.
    const c = this.el.getContext('2d', { willReadFrequently: true });
    if (!c) return;
    const w = this.el.width;
    const hgt = this.el.height;
    if (!this.background || !this.frame) {
      c.setTransform(1, 0, 0, 1, 0, 0);
      c.fillStyle = SEA;
      c.fillRect(0, 0, w, hgt);
      if (this.land) {
        c.setTransform(w / 360, 0, 0, hgt / 180, 0, 0);
        c.fillStyle = LAND;
        c.fill(this.land);
        c.setTransform(1, 0, 0, 1, 0, 0);
      }
      this.background = new Uint32Array(c.getImageData(0, 0, w, hgt).data.buffer.slice(0));
      this.frame = c.createImageData(w, hgt);
    }
    const out = new Uint32Array(this.frame.data.buffer);
    out.set(this.background);
    const sx = w / 360;
    const sy = hgt / 180;
    const half = DOT >> 1;
    for (const r of this.rows) {
      const x0 = Math.round((r.site.lon + 180) * sx) - half;
      const y0 = Math.round((90 - r.site.lat) * sy) - half;
      if (!(x0 > -DOT && x0 < w && y0 > -DOT && y0 < hgt)) continue;
      const colour = PIXELS[r.state];
      const xs = Math.max(0, x0);
      const xe = Math.min(w, x0 + DOT);
      for (let y = Math.max(0, y0); y < Math.min(hgt, y0 + DOT); y++) out.fill(colour, y * w + xs, y * w + xe);
    }
    c.putImageData(this.frame, 0, 0);
  }
}
