// Builds the dashboard into build/ui/: the app bundled by esbuild (one ES module, named by content
// hash), the stylesheet, index.html naming both, and world.json: Natural Earth land (world-atlas,
// 1:110m) as one SVG path in equirectangular coordinates (x = lon + 180, y = 90 - lat), so the map
// needs no tile server and nothing is fetched at run time. scripts/setup.mjs runs this; it takes
// well under a second, so it always rebuilds.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { feature } from 'topojson-client';
import { UI_DIR } from './serve.ts';

const here = dirname(fileURLToPath(import.meta.url));
const app = join(here, 'app');
type Ring = [number, number][];
type Geometry = { type: 'Polygon'; coordinates: Ring[] } | { type: 'MultiPolygon'; coordinates: Ring[][] };
const hash = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 12);

/** Land as one SVG path, coordinates rounded to 0.1 degree (the map is 720 px wide). */
export function worldPath(): string {
  type Topo = Parameters<typeof feature>[0];
  const topo = createRequire(import.meta.url)('world-atlas/land-110m.json') as Topo & { objects: { land: Parameters<typeof feature>[1] } };
  const land = feature(topo, topo.objects.land) as unknown as { features: { geometry: Geometry }[] };
  const r = (n: number) => Math.round(n * 10) / 10;
  const parts: string[] = [];
  for (const f of land.features) {
    const g = f.geometry;
    const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    for (const rings of polys) for (const ring of rings) parts.push(`M${ring.map(([lon, lat]) => `${r(lon + 180)} ${r(90 - lat)}`).join('L')}Z`);
  }
  return parts.join('');
}

export async function buildUi(out = UI_DIR): Promise<string[]> {
  const js = await build({
    entryPoints: [join(app, 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const script = js.outputFiles[0].contents;
  const css = readFileSync(join(app, 'style.css'));
  const files: Record<string, string | Uint8Array> = {
    [`app-${hash(script)}.js`]: script,
    [`style-${hash(css)}.css`]: css,
    'world.json': JSON.stringify({ d: worldPath() }),
  };
  const names = Object.keys(files);
  files['index.html'] = readFileSync(join(app, 'index.html'), 'utf8').replace('SCRIPT', names[0]).replace('STYLE', names[1]);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(out, name), body);
  return Object.keys(files);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await buildUi();
  process.stderr.write(`hub/ui/build: ${files.join(', ')} in ${UI_DIR}\n`);
}
