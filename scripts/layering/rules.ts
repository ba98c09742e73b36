// The layering rules of DESIGN.md as data: the parts, the arrows between them, which parts are
// pure, which npm packages each part may import (each with its reason), and the arrows inside the
// hub. scripts/layering/check.ts holds the tree to them and scripts/layering/diagram.ts draws
// docs/architecture.md's diagram from them, so the rules, the test and the picture cannot drift.
// Change the design here, in DESIGN.md, and then run `npm run docs:layering`.

/** A group of files inside a part with its own arrows (the hub's sub-parts). */
export interface Inner {
  /** Folders (ending in '/') and files, relative to the part's folder. */
  paths: string[];
  /** Other sub-parts of the same part it may import. */
  uses: string[];
  why: string;
}

export interface Part {
  /**
   * Folder, relative to the root. A part may sit inside another part's folder; its files then
   * belong to it, not to the outer part.
   */
  dir: string;
  why: string;
  /** Parts it may import, besides base (every part may import base). */
  uses: string[];
  /** npm packages the part's files may import, each with its reason. */
  packages: Record<string, string>;
  /** npm packages only its test code may import, each with its reason. */
  testPackages?: Record<string, string>;
  /**
   * Pure: what its code reaches, transitively, does no I/O and reads no clock. `true` for every
   * file of the part; a list of files (relative to the root) when only those are pure.
   */
  pure?: true | string[];
  /** Files other parts may import, relative to its folder, besides index.ts and testing/index.ts. */
  doors?: Record<string, string>;
  /** Sub-parts with their own arrows; a file of the part in none of them is a violation. */
  inner?: Record<string, Inner>;
}

/** The part every part may import; it imports no part. */
export const BASE = 'base';

export const PARTS: Record<string, Part> = {
  base: {
    dir: 'base',
    why: 'addresses and prefixes, coded errors, canonical JSON and signed key sets, running commands, waiting',
    uses: [],
    packages: {},
    // ip, errors, canonical JSON and key sets are pure, and pure.ts is their door. exec runs commands, wait reads the clock, and
    // errno reads os.constants: constant, but node:os is also hostname() and networkInterfaces().
    pure: ['base/pure.ts', 'base/ip.ts', 'base/errors.ts', 'base/canonical.ts', 'base/key-set.ts'],
    doors: { 'pure.ts': 'the pure half of base: index.ts also reaches exec and the clock, which pure parts may not' },
  },
  policy: {
    dir: 'policy',
    why: 'policy language, validation, compiler, reference evaluator, signed bundles',
    uses: [],
    packages: { yaml: 'parses policy manifests; a string in, values out, no I/O' },
    pure: true,
  },
  protocol: {
    dir: 'protocol',
    why: 'MQTT topics and message schemas shared by hub and agent (v1)',
    uses: [],
    packages: {},
    pure: true,
  },
  tunnel: {
    dir: 'tunnel',
    why: 'WireGuard control: keys, kernel or wireguard-go, UAPI',
    uses: ['protocol'],
    packages: {
      pino: 'structured logs of tunnel state changes',
      'prom-client': 'tunnel metrics (handshakes, bytes) for the agent and hub endpoints',
    },
  },
  datapath: {
    dir: 'datapath',
    why: 'the TypeScript side of the kernel: libbpf addon, layouts, tables, the Datapath interface',
    uses: ['policy'],
    packages: { pino: 'logs of attach, apply and the generation switch' },
    testPackages: { 'dns-packet': 'crafted DNS answers (odd ones too) for the FQDN learning kernel tests and benchmark' },
  },
  'offline-store': {
    dir: 'offline-store',
    why: "the agent's SQLite store: bundles, outbox, state",
    uses: ['protocol'],
    packages: { 'better-sqlite3': 'synchronous, transactional SQLite with WAL (DESIGN.md "agent store")' },
  },
  'edge-agent': {
    dir: 'edge-agent',
    why: 'the agent: CLI, enroll, link, kube, enforcer, status API, packaging',
    uses: ['policy', 'protocol', 'tunnel', 'datapath', 'offline-store'],
    doors: { 'cli/main.ts': 'the `weft-agent` program, which bin/weft-agent.mjs runs: an entry point, not an API' },
    packages: {
      mqtt: 'the link to the hub broker (DESIGN.md "MQTT client")',
      pino: 'structured logs',
      'prom-client': 'the agent metrics endpoint',
      yaml: 'the provisioning file and the agent config',
      esbuild: 'packaging/: bundles the agent into one executable (DESIGN.md "single binary")',
    },
    testPackages: {
      aedes: 'a real in-process broker for link tests',
      '@kubernetes/client-node': 'proves the in-process k3s API server faithful against the official client',
    },
  },
  router: {
    dir: 'router',
    why: 'end-user steering: DNS and HTTP, locate, rank; owns the sites/health view it is fed; in every hub process and on its own (weft-router)',
    uses: ['protocol'],
    doors: { 'main.ts': 'the `weft-router` program, which bin/weft-router.mjs runs: an entry point, not an API' },
    packages: {
      'dns-packet': 'DNS wire encoding only; the server logic is ours (DESIGN.md "DNS")',
      fastify: 'the HTTP redirect routes, mounted on the hub server or on weft-router\'s own (DESIGN.md "HTTP")',
      mqtt: 'the health monitor subscribes to the sites\' status and heartbeats (DESIGN.md "MQTT client")',
      maxmind: 'reads the geo database to locate clients',
      pino: 'structured logs',
      'prom-client': 'router metrics',
      yaml: 'the router config file',
      tsx: 'dns-worker.mjs: a worker thread or process does not inherit the TypeScript loader of the hub process, so it registers it',
    },
  },
  hub: {
    dir: 'hub',
    why: 'API, store, broker, sites and health, rollout, releases',
    uses: ['policy', 'protocol', 'tunnel', 'router'],
    doors: { 'cli/main.ts': 'the `weft` program, which bin/weft.mjs runs: an entry point, not an API' },
    packages: {
      fastify: 'the HTTP API (DESIGN.md "HTTP")',
      '@fastify/swagger': 'the OpenAPI document of the API',
      '@fastify/swagger-ui': 'the OpenAPI page at /docs',
      aedes: 'the embedded broker (DESIGN.md "embedded broker")',
      'better-sqlite3': 'the embedded store (DESIGN.md "hub store")',
      pg: 'the PostgreSQL store of hubs past one machine (DESIGN.md "hub store past one machine")',
      mqtt: 'the hub client of an external broker (Mosquitto, NATS)',
      pino: 'structured logs',
      'prom-client': 'the hub metrics endpoint',
      esbuild: 'builds the dashboard (hub/ui/build.ts) at setup (DESIGN.md "dashboard")',
      'topojson-client': "turns world-atlas's Natural Earth land into the dashboard map's outline at build time",
    },
    testPackages: {
      'playwright-core': "drives Debian's chromium in the dashboard's browser tests (nothing downloaded)",
    },
    inner: {
      errors: { paths: ['errors.ts'], uses: [], why: 'the coded errors of the hub' },
      store: { paths: ['store/'], uses: [], why: 'one async store interface over SQLite or PostgreSQL' },
      pki: { paths: ['pki/'], uses: ['errors', 'store'], why: 'the hub CA and the bundle signing keys' },
      auth: { paths: ['auth/'], uses: ['pki', 'store'], why: 'tokens and site credentials' },
      broker: { paths: ['broker/'], uses: ['pki'], why: 'aedes, Mosquitto, NATS behind one interface' },
      health: { paths: ['health/'], uses: ['broker'], why: 'site health from status and heartbeats' },
      ingest: { paths: ['ingest/'], uses: ['store'], why: 'acks, events and counters from sites into the store' },
      rollout: { paths: ['rollout/'], uses: ['errors', 'pki', 'store'], why: 'policy versions and staged rollouts' },
      enroll: { paths: ['enroll/'], uses: ['errors', 'auth', 'broker', 'store'], why: 'site enrollment and peers' },
      sites: { paths: ['sites/'], uses: ['errors', 'auth', 'broker', 'health', 'store'], why: 'site records and revocation' },
      server: {
        paths: ['server/'],
        uses: ['errors', 'auth', 'enroll', 'health', 'pki', 'rollout', 'sites', 'store', 'ui'],
        why: 'the fastify API over the services, and the dashboard files at /ui/',
      },
      config: { paths: ['config.ts', 'config.test.ts'], uses: ['broker', 'enroll', 'server', 'store'], why: 'the hub command line and config' },
      cli: { paths: ['cli/'], uses: [], why: 'the `weft` ops CLI: talks to the API over HTTP, shares no code with the server' },
      main: {
        paths: [
          'main.ts',
          'version.ts',
          'main.test.ts',
          'main-mosquitto.test.ts',
          'main-nats.test.ts',
          'main-pg.kernel.test.ts',
          'replicas.kernel.test.ts',
          'abuse.fuzz.test.ts',
          'router-standalone.test.ts',
        ],
        uses: ['config', 'auth', 'broker', 'enroll', 'health', 'ingest', 'pki', 'rollout', 'server', 'sites', 'store'],
        why: 'wires one hub process',
      },
      ui: { paths: ['ui/serve.ts', 'ui/build.ts', 'ui/app/'], uses: [], why: 'the ops dashboard: browser code, its build, and the route serving it' },
      testing: {
        paths: ['testing/', 'ui/testing/', 'ui/dashboard.browser.test.ts'],
        uses: ['*'],
        why: 'harnesses for tests: a whole hub, simulated agents, a browser; and the browser tests that use them',
      },
      door: { paths: ['index.ts'], uses: ['*'], why: 'what tools outside the product use of the hub' },
    },
  },
};

/**
 * Folders outside the product. They may import any part, through its doors, and any npm package
 * in package.json (they are tools, tests and benchmarks, not shipped code).
 */
export const OUTSIDE: Record<string, string> = {
  images: 'appliance image build and provisioning',
  'field-tests': 'multi-site scenarios on network namespaces',
  bench: 'benchmarks against peers',
  scripts: 'setup, `npm start`, docs generators, this test',
  bin: 'launchers of the CLIs from a checkout',
};

/** Imports the rules would refuse that are right, each with its reason; one no longer made fails the test. */
export interface Exception {
  from: string;
  to: string;
  why: string;
}

export const EXCEPTIONS: Exception[] = [
  {
    from: 'datapath/index.ts',
    to: 'datapath/testing/memory-datapath.ts',
    why: 'DESIGN.md puts the in-memory datapath under datapath/testing/, and the agent also runs it as its fallback',
  },
  {
    from: 'hub/health/routes.test.ts',
    to: 'hub/server/schemas.ts',
    why: 'the health routes answer with the shared error schema the server registers; the test registers it the same way',
  },
];

/** Files at the root any file may import, with the reason. */
export const ROOT_FILES: Record<string, string> = {
  'package.json': 'the version: data, not code',
};

/** npm packages any test code may import. */
export const TEST_PACKAGES: Record<string, string> = {
  vitest: 'the test runner',
  'fast-check': 'property tests',
};

/** Node built-ins pure code may reach: computation only, no I/O, no clock. */
export const PURE_BUILTINS: Record<string, string> = {
  crypto: 'Ed25519 signatures and hashes of bundles: computation (keys are generated by callers)',
};

/** npm packages pure code may reach: they do no I/O. */
export const PURE_PACKAGES: Record<string, string> = {
  yaml: 'a string in, values out',
};

/**
 * The doors of a part, relative to its folder: the only files another part (or an outside folder)
 * may import. `testing/index.ts` holds fakes and harnesses, for test code and outside folders only.
 */
export const DOOR = 'index.ts';
export const TEST_DOOR = 'testing/index.ts';

/** Test code: tests, their data, and harnesses. Pure parts may use I/O there; product code may not import it. */
export const isTestCode = (file: string): boolean => /\.test\.ts$|(^|\/)testdata\/|(^|\/)testing\//.test(file);

/** Directories never read: dependencies, build output, caches. */
export const skipDir = (name: string): boolean => name === 'node_modules' || name.startsWith('.') || ['build', 'dist', 'cache', 'out'].includes(name);
