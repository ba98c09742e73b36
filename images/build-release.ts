// npm run build:release -- --version 0.2.0 --key release.pem [--new-key] [--min-hub 0.1.0]
//                          [--out dist/release] [--rootfs root.img | --build-rootfs] [--key-set-version N]
// One release: the single-binary agent built for that version and, when asked, the appliance root
// filesystem image (a prebuilt one with --rootfs, or built here with --build-rootfs, which needs root),
// each with its signed manifest (version, sha256, size, minimum hub version), and the signed
// release-key set. The release key is not the hub's policy-signing key: keep it off the hub.
import { copyFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSea } from '../edge-agent/index.ts';
import { formatError, WeftError } from '../base/index.ts';
import { parseVersion, type ReleaseManifest } from '../protocol/index.ts';
import { buildImage } from './build-image.ts';
import { ImageError } from './errors.ts';
import { releaseKey, signArtifact, writeReleaseKeySet } from './release.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ReleaseOptions {
  version: string;
  keyPath: string;
  newKey?: boolean;
  minHubVersion?: string;
  out?: string;
  /** A prebuilt root filesystem image to ship as the rootfs artifact. */
  rootfs?: string;
  /** Build the appliance image (root only) and ship its root filesystem. */
  buildRootfs?: boolean;
  /** Version of the release-key set written beside (default 1). */
  keySetVersion?: number;
  now?: () => Date;
  log?: (m: string) => void;
}

export interface BuiltRelease {
  dir: string;
  artifacts: { manifest: ReleaseManifest; path: string; manifestPath: string }[];
  keySet: string;
}

export async function buildRelease(o: ReleaseOptions): Promise<BuiltRelease> {
  const log = o.log ?? ((m: string) => process.stderr.write(`build:release: ${m}\n`));
  const pkgVersion = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
  for (const [name, v] of [
    ['--version', o.version],
    ['--min-hub', o.minHubVersion ?? pkgVersion],
  ] as const) {
    if (!parseVersion(v)) throw new ImageError('IMAGE_BAD_OPTION', `${name} ${v} is not MAJOR.MINOR.PATCH`, 'e.g. --version 0.2.0');
  }
  const key = releaseKey(o.keyPath, o.newKey);
  const dir = resolve(o.out ?? join(repo, 'dist/release'), o.version);
  mkdirSync(dir, { recursive: true });
  const issuedAt = (o.now ?? (() => new Date()))().toISOString();
  const common = { version: o.version, minHubVersion: o.minHubVersion ?? pkgVersion, key, issuedAt };
  const artifacts: BuiltRelease['artifacts'] = [];

  const agent = join(dir, `weft-agent-${o.version}`);
  log(`building the agent ${o.version}`);
  await buildSea({ out: agent, version: o.version, log });
  const a = await signArtifact({ kind: 'agent', file: agent, ...common });
  artifacts.push({ manifest: a.manifest, path: agent, manifestPath: a.path });

  if (o.rootfs || o.buildRootfs) {
    const rootfs = join(dir, `rootfs-${o.version}.img`);
    if (o.rootfs) {
      copyFileSync(o.rootfs, `${rootfs}.part`);
      renameSync(`${rootfs}.part`, rootfs);
    } else {
      log('building the appliance image for its root filesystem');
      buildImage({ agent, out: join(dir, 'image'), rootOut: rootfs, log });
    }
    const r = await signArtifact({ kind: 'rootfs', file: rootfs, ...common });
    artifacts.push({ manifest: r.manifest, path: rootfs, manifestPath: r.path });
  }
  writeReleaseKeySet(dir, o.keySetVersion ?? 1, [key], key, issuedAt);
  return { dir, artifacts, keySet: join(dir, 'release-keys.json') };
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const keySetVersion = arg(argv, 'key-set-version');
  buildRelease({
    version: arg(argv, 'version') ?? '',
    keyPath: resolve(arg(argv, 'key') ?? 'release.pem'),
    newKey: argv.includes('--new-key'),
    minHubVersion: arg(argv, 'min-hub'),
    out: arg(argv, 'out'),
    rootfs: arg(argv, 'rootfs'),
    buildRootfs: argv.includes('--build-rootfs'),
    keySetVersion: keySetVersion ? Number(keySetVersion) : undefined,
  }).then(
    (r) => {
      if (argv.includes('--json'))
        process.stdout.write(
          `${JSON.stringify({ dir: r.dir, keySet: r.keySet, artifacts: r.artifacts.map((x) => ({ ...x.manifest, path: x.path, manifest: x.manifestPath })) })}\n`,
        );
      else
        for (const x of r.artifacts)
          process.stdout.write(
            `${x.manifest.kind} ${x.manifest.version} ${x.path} (${(x.manifest.size / 2 ** 20).toFixed(1)} MiB, sha256 ${x.manifest.sha256.slice(0, 16)}…)\n`,
          );
    },
    (e: unknown) => {
      process.stderr.write(`build:release: ${formatError(e)}\n`);
      process.exit(e instanceof WeftError ? 2 : 1);
    },
  );
}
