// PostgreSQL schema migrations, applied in order; weft_schema.version records how many ran. The same
// tables and constraints as the SQLite schema (../migrations.ts) at its version 6, in PostgreSQL's
// types: BIGINT for millisecond times, BOOLEAN for flags, identity columns for ids, text keys in the
// "C" collation so lists sort as SQLite sorts them (bytewise) whatever the cluster's locale. Never edit
// a released migration: add a new one.

export const PG_MIGRATIONS: readonly string[] = [
  // 1: everything SQLite migrations 1..6 hold
  `
  CREATE TABLE sites (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    labels TEXT NOT NULL DEFAULT '{}',
    lat DOUBLE PRECISION NOT NULL DEFAULT 0,
    lon DOUBLE PRECISION NOT NULL DEFAULT 0,
    client_cidrs TEXT NOT NULL DEFAULT '[]',
    capacity INTEGER NOT NULL DEFAULT 100,
    services TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'enrolled', 'revoked')),
    drained BOOLEAN NOT NULL DEFAULT FALSE,
    identity_key TEXT,
    wireguard_key TEXT,
    overlay_index INTEGER UNIQUE,
    created_at BIGINT NOT NULL,
    enrolled_at BIGINT,
    revoked_at BIGINT
  );
  CREATE TABLE site_credentials (
    site_id TEXT COLLATE "C" PRIMARY KEY REFERENCES sites(id),
    password_hash TEXT NOT NULL,
    pending_hash TEXT,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE enroll_tokens (
    hash TEXT PRIMARY KEY,
    site_id TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_by TEXT NOT NULL
  );
  CREATE TABLE enroll_challenges (
    hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX enroll_challenges_expiry ON enroll_challenges(expires_at);
  CREATE TABLE api_tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    expires_at BIGINT
  );
  CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX audit_target ON audit(target, id);
  CREATE TABLE policy_versions (
    version INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    yaml TEXT NOT NULL,
    objects TEXT NOT NULL,
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE rollouts (
    id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('rollout', 'rollback')),
    policy_version INTEGER NOT NULL,
    selector TEXT NOT NULL,
    stages TEXT NOT NULL,
    audit_window_s INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    stage INTEGER NOT NULL DEFAULT 0,
    stage_acked_at BIGINT,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE rollout_sites (
    rollout_id INTEGER NOT NULL REFERENCES rollouts(id),
    site_id TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    stage INTEGER NOT NULL,
    policy_version INTEGER NOT NULL,
    generation INTEGER,
    published_at BIGINT,
    result TEXT,
    code TEXT,
    reason TEXT,
    acked_at BIGINT,
    PRIMARY KEY (rollout_id, site_id)
  );
  CREATE INDEX rollout_sites_site ON rollout_sites(site_id, result);
  CREATE TABLE site_generations (
    site_id TEXT COLLATE "C" PRIMARY KEY REFERENCES sites(id),
    generation INTEGER NOT NULL
  );
  CREATE TABLE bundles (
    site_id TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    generation INTEGER NOT NULL,
    policy_version INTEGER NOT NULL,
    rollout_id INTEGER,
    bundle TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (site_id, generation)
  );
  CREATE TABLE acks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id TEXT COLLATE "C" NOT NULL,
    generation INTEGER NOT NULL,
    result TEXT NOT NULL,
    code TEXT,
    reason TEXT,
    at TEXT NOT NULL,
    received_at BIGINT NOT NULL
  );
  CREATE INDEX acks_site ON acks(site_id, generation);
  CREATE TABLE telemetry_batches (
    site_id TEXT COLLATE "C" NOT NULL,
    device TEXT NOT NULL,
    seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (site_id, device, seq)
  );
  CREATE TABLE verdicts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    generation INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    direction TEXT NOT NULL,
    verdict TEXT NOT NULL,
    proto INTEGER NOT NULL,
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    sport INTEGER NOT NULL,
    dport INTEGER NOT NULL,
    policy TEXT COLLATE "C",
    rule TEXT,
    count INTEGER NOT NULL DEFAULT 1
  );
  CREATE INDEX verdicts_site_at ON verdicts(site_id, at);
  CREATE INDEX verdicts_policy_at ON verdicts(policy, at);
  CREATE TABLE counters (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    policy TEXT COLLATE "C",
    rule TEXT,
    verdict TEXT COLLATE "C" NOT NULL,
    packets BIGINT NOT NULL,
    bytes BIGINT NOT NULL
  );
  CREATE INDEX counters_site_at ON counters(site_id, at);
  CREATE TABLE signing_keys (
    key_id TEXT COLLATE "C" PRIMARY KEY,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    retired_at BIGINT,
    untrusted_at BIGINT
  );
  `,
  // 2: the rollout engine's lease: who holds it is an advisory lock on the holder's own connection; the
  // epoch here goes up at every acquisition and fences the engine's writes (a paused old leader's
  // write finds a newer epoch and is refused).
  `
  CREATE TABLE rollout_lease (
    name TEXT PRIMARY KEY,
    epoch BIGINT NOT NULL,
    holder TEXT NOT NULL,
    acquired_at BIGINT NOT NULL
  );
  `,
  // 3 (SQLite's 7): hub nodes (each node's WireGuard key, endpoint and overlay index, handed to sites at
  // enrollment) and the last health change of each site, read by a replica that starts.
  `
  CREATE TABLE hub_nodes (
    name TEXT COLLATE "C" PRIMARY KEY,
    wireguard_key TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    overlay_index BIGINT NOT NULL UNIQUE,
    seen_at BIGINT NOT NULL
  );
  CREATE TABLE site_health (
    site_id TEXT COLLATE "C" PRIMARY KEY,
    health TEXT NOT NULL,
    reason TEXT NOT NULL,
    since BIGINT NOT NULL,
    by TEXT NOT NULL
  );
  `,
  // 4 (SQLite's 8): health changes (online, degraded, offline...) of each site, so every hub replica's site timeline
  // shows the same ones, also after a restart. Bounded: the newest few hundred per site.
  `
  CREATE TABLE health_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id TEXT COLLATE "C" NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    at BIGINT NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE INDEX health_events_site_at ON health_events(site_id, at);
  `,
  // 5 (issue 21): releases, update rollouts and their sites, each site's version (SQLite migration 9).
  `
  CREATE TABLE releases (
    version TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    signed TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    min_hub_version TEXT NOT NULL,
    complete BOOLEAN NOT NULL DEFAULT FALSE,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (version, kind)
  );
  CREATE TABLE update_rollouts (
    id BIGSERIAL PRIMARY KEY,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    selector TEXT NOT NULL,
    stages TEXT NOT NULL,
    state TEXT NOT NULL,
    stage INTEGER NOT NULL,
    stage_acked_at BIGINT,
    reason TEXT,
    deadline_s INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE update_sites (
    rollout_id BIGINT NOT NULL REFERENCES update_rollouts(id),
    site_id TEXT COLLATE "C" NOT NULL,
    stage INTEGER NOT NULL,
    published_at BIGINT,
    result TEXT,
    code TEXT,
    reason TEXT,
    reported_at BIGINT,
    PRIMARY KEY (rollout_id, site_id)
  );
  CREATE TABLE site_versions (
    site_id TEXT COLLATE "C" PRIMARY KEY,
    version TEXT,
    last_rollout_id BIGINT,
    last_version TEXT,
    last_state TEXT,
    last_code TEXT,
    last_reason TEXT,
    last_at BIGINT,
    updated_at BIGINT NOT NULL
  );
  `,
  // 6 (SQLite's 10): site links declared by ops (issue 22).
  `
  CREATE TABLE site_links (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    spec TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  `,
  // 7 (SQLite's 11): sites with several nodes (issue 19); see hub/store/migrations.ts 11.
  `
  ALTER TABLE enroll_tokens ADD COLUMN for_nodes BOOLEAN NOT NULL DEFAULT FALSE;
  ALTER TABLE enroll_tokens ADD COLUMN max_uses INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE enroll_tokens ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE site_nodes (
    site_id TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    name TEXT COLLATE "C" NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('enrolled', 'revoked')),
    identity_key TEXT NOT NULL,
    wireguard_key TEXT NOT NULL,
    overlay_index INTEGER NOT NULL UNIQUE,
    agent_version TEXT,
    password_hash TEXT,
    pending_hash TEXT,
    enrolled_at BIGINT NOT NULL,
    revoked_at BIGINT,
    applied_generation BIGINT,
    applied_at BIGINT,
    PRIMARY KEY (site_id, name)
  );
  CREATE INDEX site_nodes_wireguard_key ON site_nodes(wireguard_key);
  ALTER TABLE verdicts ADD COLUMN node TEXT COLLATE "C";
  `,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;
