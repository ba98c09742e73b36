// Schema migrations, applied in order; PRAGMA user_version records how many ran.
// Never edit a released migration: add a new one (the test upgrades a database from every older version).

export const MIGRATIONS: readonly string[] = [
  // 1: sites, credentials, enrollment tokens, ops tokens, audit log
  `
  CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    labels TEXT NOT NULL DEFAULT '{}',
    lat REAL NOT NULL DEFAULT 0,
    lon REAL NOT NULL DEFAULT 0,
    client_cidrs TEXT NOT NULL DEFAULT '[]',
    capacity INTEGER NOT NULL DEFAULT 100,
    services TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'enrolled', 'revoked')),
    drained INTEGER NOT NULL DEFAULT 0,
    identity_key TEXT,
    wireguard_key TEXT,
    overlay_index INTEGER UNIQUE,
    created_at INTEGER NOT NULL,
    enrolled_at INTEGER,
    revoked_at INTEGER
  );
  CREATE TABLE site_credentials (
    site_id TEXT PRIMARY KEY REFERENCES sites(id),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE enroll_tokens (
    hash TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    created_by TEXT NOT NULL
  );
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
  );
  `,
  // 2: policy versions, rollouts, bundles, acks
  `
  CREATE TABLE policy_versions (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    yaml TEXT NOT NULL,
    objects TEXT NOT NULL,
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('rollout', 'rollback')),
    policy_version INTEGER NOT NULL,
    selector TEXT NOT NULL,
    stages TEXT NOT NULL,
    audit_window_s INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    stage INTEGER NOT NULL DEFAULT 0,
    stage_acked_at INTEGER,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE rollout_sites (
    rollout_id INTEGER NOT NULL REFERENCES rollouts(id),
    site_id TEXT NOT NULL REFERENCES sites(id),
    stage INTEGER NOT NULL,
    policy_version INTEGER NOT NULL,
    generation INTEGER,
    published_at INTEGER,
    result TEXT,
    code TEXT,
    reason TEXT,
    acked_at INTEGER,
    PRIMARY KEY (rollout_id, site_id)
  );
  CREATE INDEX rollout_sites_site ON rollout_sites(site_id, result);
  CREATE TABLE site_generations (
    site_id TEXT PRIMARY KEY REFERENCES sites(id),
    generation INTEGER NOT NULL
  );
  CREATE TABLE bundles (
    site_id TEXT NOT NULL REFERENCES sites(id),
    generation INTEGER NOT NULL,
    policy_version INTEGER NOT NULL,
    rollout_id INTEGER,
    bundle TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, generation)
  );
  CREATE TABLE acks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    result TEXT NOT NULL,
    code TEXT,
    reason TEXT,
    at TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX acks_site ON acks(site_id, generation);
  `,
  // 3: telemetry (verdicts and counters), deduped by (site, seq)
  `
  CREATE TABLE telemetry_batches (
    site_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, seq)
  );
  CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    direction TEXT NOT NULL,
    verdict TEXT NOT NULL,
    proto INTEGER NOT NULL,
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    sport INTEGER NOT NULL,
    dport INTEGER NOT NULL,
    policy TEXT,
    rule TEXT,
    count INTEGER NOT NULL DEFAULT 1
  );
  CREATE INDEX verdicts_site_at ON verdicts(site_id, at);
  CREATE INDEX verdicts_policy_at ON verdicts(policy, at);
  CREATE TABLE counters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    policy TEXT,
    rule TEXT,
    verdict TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  );
  CREATE INDEX counters_site_at ON counters(site_id, at);
  `,
  // 4: bundle-signing keys (private halves live in 0600 files; the store keeps which are trusted and active)
  `
  CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    activated_at INTEGER,
    retired_at INTEGER,
    untrusted_at INTEGER
  );
  `,
  // 5: enrollment hardening. A re-enrolled device's new broker password waits beside the working one
  // until the device uses it; hub-issued one-time challenges make enrollment proofs unreplayable;
  // API tokens expire (NULL: made before, or the bootstrap admin).
  `
  ALTER TABLE site_credentials ADD COLUMN pending_hash TEXT;
  ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
  CREATE TABLE enroll_challenges (
    hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX enroll_challenges_expiry ON enroll_challenges(expires_at);
  `,
  // 6: telemetry deduped by (site, device, seq): a replacement device's outbox starts again at seq 1.
  // Rows already stored belong to the site's current device.
  `
  CREATE TABLE telemetry_batches_6 (
    site_id TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, device, seq)
  );
  INSERT INTO telemetry_batches_6 (site_id, device, seq, type, at, received_at)
    SELECT b.site_id, COALESCE(s.identity_key, ''), b.seq, b.type, b.at, b.received_at
    FROM telemetry_batches b LEFT JOIN sites s ON s.id = b.site_id;
  DROP TABLE telemetry_batches;
  ALTER TABLE telemetry_batches_6 RENAME TO telemetry_batches;
  `,
  // 7: hub nodes (past one machine: each node's WireGuard key, endpoint and overlay index, handed to
  // sites at enrollment) and the last health change of each site, read by a replica that starts.
  `
  CREATE TABLE hub_nodes (
    name TEXT PRIMARY KEY,
    wireguard_key TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    overlay_index INTEGER NOT NULL UNIQUE,
    seen_at INTEGER NOT NULL
  );
  CREATE TABLE site_health (
    site_id TEXT PRIMARY KEY,
    health TEXT NOT NULL,
    reason TEXT NOT NULL,
    since INTEGER NOT NULL,
    by TEXT NOT NULL
  );
  `,
  // 8: health changes (online, degraded, offline...) of each site, so every hub replica's site timeline
  // shows the same ones, also after a restart. Bounded: the newest few hundred per site.
  `
  CREATE TABLE health_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE INDEX health_events_site_at ON health_events(site_id, at);
  `,
  // 9 (issue 21): releases (signed manifests; bytes in <data>/releases), update rollouts staged like
  // policy rollouts, each site's row in them, and each site's running version and last update.
  `
  CREATE TABLE releases (
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    signed TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    min_hub_version TEXT NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    uploaded_by TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (version, kind)
  );
  CREATE TABLE update_rollouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    selector TEXT NOT NULL,
    stages TEXT NOT NULL,
    state TEXT NOT NULL,
    stage INTEGER NOT NULL,
    stage_acked_at INTEGER,
    reason TEXT,
    deadline_s INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE update_sites (
    rollout_id INTEGER NOT NULL REFERENCES update_rollouts(id),
    site_id TEXT NOT NULL,
    stage INTEGER NOT NULL,
    published_at INTEGER,
    result TEXT,
    code TEXT,
    reason TEXT,
    reported_at INTEGER,
    PRIMARY KEY (rollout_id, site_id)
  );
  CREATE TABLE site_versions (
    site_id TEXT PRIMARY KEY,
    version TEXT,
    last_rollout_id INTEGER,
    last_version TEXT,
    last_state TEXT,
    last_code TEXT,
    last_reason TEXT,
    last_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  `,
  // 10: site links declared by ops (issue 22): a pair or a label selector, kept as JSON (hub/mesh/links.ts).
  `
  CREATE TABLE site_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 11: sites with several nodes (issue 19). A node token enrolls up to max_uses nodes; each node has its
  // own device key, WireGuard key, overlay address and broker credential; verdicts name the node that
  // judged them.
  `
  ALTER TABLE enroll_tokens ADD COLUMN for_nodes INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE enroll_tokens ADD COLUMN max_uses INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE enroll_tokens ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE site_nodes (
    site_id TEXT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('enrolled', 'revoked')),
    identity_key TEXT NOT NULL,
    wireguard_key TEXT NOT NULL,
    overlay_index INTEGER NOT NULL UNIQUE,
    agent_version TEXT,
    password_hash TEXT,
    pending_hash TEXT,
    enrolled_at INTEGER NOT NULL,
    revoked_at INTEGER,
    applied_generation INTEGER,
    applied_at INTEGER,
    PRIMARY KEY (site_id, name)
  );
  CREATE INDEX site_nodes_wireguard_key ON site_nodes(wireguard_key);
  ALTER TABLE verdicts ADD COLUMN node TEXT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
